# SPDX-License-Identifier: MIT
"""Compares three views of the grid after a fault and prints every difference.

  check.py --port P --uri LIBVIRT_URI --live hv1[,hv2] [--dead hv2] [--wall DUMP]

libvirt (virsh list --all) is the truth. For each live host the broker's
retained kvmgrid/<host>/vm/<vm> topics must name exactly libvirt's domains,
each with libvirt's state, and kvmgrid/<host>/status must be "online"; a dead
host's status must be "offline" (its will). With --wall, the wall's layout
dump (kvmgrid-wall --dump-layout, written on SIGUSR1) must show the same hosts
with the same status and the same tiles with the same states as the broker's
retained state. Exit 0 when all agree, 1 otherwise (differences on stdout).
VMs are keyed by their names: a topic level and a dump's tile name are
percent-decoded (kvmgrid's topic escaping), and a payload whose "name" differs
from its topic's is a difference too.
"""
import argparse
import json
import subprocess
import sys
from urllib.parse import unquote


def retained(port, prefix):
    out = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t",
                          prefix + "/#", "-v", "--retained-only", "-W", "2"],
                         capture_output=True, text=True, check=False).stdout
    topics = {}
    for line in out.splitlines():
        topic, _, payload = line.partition(" ")
        topics[topic] = payload
    return topics


def libvirt(uri):
    """Every domain with its state: one virsh call per state (list's filters), not
    one domstate per domain; a domain in none of them is "other"."""
    def names(*flags):
        out = subprocess.run(["virsh", "-q", "-c", uri, "list", "--name"] + list(flags),
                             capture_output=True, text=True, check=True).stdout
        return [n for n in out.split("\n") if n]
    doms = {n: "other" for n in names("--all")}
    for state in ("running", "paused", "shutoff"):
        for n in names("--state-" + state):
            doms[n] = state
    return doms


def broker_view(topics, prefix, host):
    vms = {}
    status = topics.get("%s/%s/status" % (prefix, host), "")
    head = "%s/%s/vm/" % (prefix, host)
    for topic, payload in topics.items():
        if topic.startswith(head) and payload:
            name = unquote(topic[len(head):])
            try:
                d = json.loads(payload)
                vms[name] = d["state"] if d["name"] == name else "named %r" % d["name"]
            except (ValueError, KeyError) as e:
                vms[name] = "undecodable: %s" % e
    return status, vms


def wall_view(path):
    hosts, tiles = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            w = line.split()
            if w[:1] == ["host"] and len(w) >= 7:
                hosts[w[1]] = w[6]
                tiles.setdefault(w[1], {})
            elif w[:1] == ["tile"] and len(w) >= 7:
                tiles.setdefault(w[1], {})[unquote(w[2])] = w[6]
    return hosts, tiles


def diff(what, want, got, out):
    for k in sorted(set(want) | set(got)):
        if want.get(k) != got.get(k):
            out.append("%s %s: want %s, got %s" % (what, k, want.get(k, "(none)"),
                                                   got.get(k, "(none)")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", required=True)
    ap.add_argument("--uri", required=True)
    ap.add_argument("--prefix", default="kvmgrid")
    ap.add_argument("--live", default="")
    ap.add_argument("--dead", default="")
    ap.add_argument("--wall")
    a = ap.parse_args()
    live = [h for h in a.live.split(",") if h]
    dead = [h for h in a.dead.split(",") if h]
    topics = retained(a.port, a.prefix)
    doms = libvirt(a.uri)
    out = []
    views = {}
    for h in live + dead:
        views[h] = broker_view(topics, a.prefix, h)
    for h in live:
        status, vms = views[h]
        if status != "online":
            out.append("broker %s/status: want online, got %r" % (h, status))
        diff("broker %s vm" % h, doms, vms, out)
    for h in dead:
        if views[h][0] != "offline":
            out.append("broker %s/status: want offline (the will), got %r" % (h, views[h][0]))
    if a.wall:
        try:
            hosts, tiles = wall_view(a.wall)
        except OSError as e:
            out.append("wall dump %s: %s" % (a.wall, e))
        else:
            for h in live + dead:
                status, vms = views[h]
                if hosts.get(h) != status:
                    out.append("wall host %s: want %s, got %s" % (h, status, hosts.get(h)))
                diff("wall %s tile" % h, vms, tiles.get(h, {}), out)
    for line in out:
        print(line)
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())
