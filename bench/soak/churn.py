#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Domain churn for bench/soak/run.sh: changes libvirt's domains while the agent runs.

    churn.py URI WORKDIR [--per-s N] [--domains N] [--running-pct P] [--seed S]

Every second one virsh call makes N changes (default 3), each on a different domain:
define (a fresh name, or a name freed earlier: reused names), start, destroy,
undefine, rename (domrename, shut-off domains only), suspend/resume, a transient
domain created (it disappears when destroyed). The
choice keeps the domain count near --domains and the running share near
--running-pct. Some names need escaping in topics (space, '+', '#', '%', UTF-8).

It keeps its own picture of the domains and re-reads `virsh list --all` after any
virsh error and once a minute; a difference found then is counted (it would mean
libvirt did something other than asked). SIGTERM ends it after the current call;
WORKDIR/churn.json holds the counts (rewritten every 10 s and at exit).
It is a load, not a check: run.sh compares the retained topics with libvirt.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from xml.sax.saxutils import escape

XML = """<domain type='test'><name>{name}</name>
<memory>524288</memory><currentMemory>262144</currentMemory><vcpu>1</vcpu>
<os><type>hvm</type></os><devices>
<disk type='file' device='disk'><source file='/soak/{n}.img'/><target dev='vda'/></disk>
<interface type='network'><mac address='52:54:01:{a:02x}:{b:02x}:{c:02x}'/><source network='default'/></interface>
<memballoon model='virtio'/></devices></domain>
"""
# Names that need escaping in topics, used for every seventh fresh name.
ODD = ["odd vm+{}", "m\u00fcnchen #{}", "p%c {}", "it's {}"]

stop = False


def on_term(_sig, _frame):
    global stop
    stop = True


def quote(name):
    """A name as one virsh shell word (double quotes; virsh unescapes \\ and \")."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def virsh(uri, cmds):
    p = subprocess.run(["virsh", "-q", "-c", uri, "; ".join(cmds)],
                       capture_output=True, text=True, timeout=120)
    return p.stdout, p.stderr.strip()


def list_domains(uri):
    """{name: state} from `virsh list --all` (state: running, paused, shutoff, ...)."""
    out, err = virsh(uri, ["list --all"])
    if err:
        raise RuntimeError(err)
    doms = {}
    for line in out.splitlines():
        line = line.strip()
        if not line:
            continue
        _id, rest = line.split(None, 1)
        if rest.endswith("shut off"):
            name, state = rest[: -len("shut off")], "shutoff"
        else:
            name, state = rest.rsplit(None, 1)
        doms[name.strip()] = state
    return doms


class Churn:
    def __init__(self, args):
        self.a = args
        self.rng = random.Random(args.seed)
        self.dir = os.path.join(args.workdir, "churn")
        os.makedirs(self.dir, exist_ok=True)
        self.doms = {}        # name -> [state, transient]
        self.freed = []       # names that existed and are gone: reused later
        self.fresh = self.files = 0
        self.counts = {}
        self.calls = self.errors = self.resyncs = self.drift = 0
        self.last_resync = time.monotonic()

    def count(self, what, n=1):
        self.counts[what] = self.counts.get(what, 0) + n

    def resync(self, why):
        seen = list_domains(self.a.uri)
        known = {k: v[0] for k, v in self.doms.items()}
        if known and seen != known:
            diff = sorted(set(seen.items()) ^ set(known.items()))[:10]
            print(f"resync ({why}): libvirt differs from what was asked: {diff}", flush=True)
            self.drift += 1
        # a domain that was transient stays so; new ones are taken as persistent
        self.doms = {k: [v, self.doms.get(k, [v, False])[1]] for k, v in seen.items()}
        self.resyncs += 1
        self.last_resync = time.monotonic()

    def new_name(self, used):
        if self.freed and self.rng.random() < 0.4:
            for i, name in enumerate(self.freed):
                if name not in self.doms and name not in used:
                    del self.freed[i]
                    self.count("reused_name")
                    return name
        self.fresh += 1
        if self.fresh % 7 == 0:
            return ODD[(self.fresh // 7) % len(ODD)].format(self.fresh)
        return f"churn-{self.fresh:05d}"

    def xml_file(self, name):
        self.files += 1
        n = self.files
        path = os.path.join(self.dir, f"d{n}.xml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(XML.format(name=escape(name, {"'": "&apos;"}), n=n,
                               a=n >> 16 & 255, b=n >> 8 & 255, c=n & 255))
        return path

    def free(self, name):
        self.freed.append(name)
        del self.freed[:-500]

    def plan(self):
        """Up to per_s (virsh command, op, name, effect) tuples, each on its own domain.
        effect: the domain's [state, transient] after it, None when it is gone, or
        for a rename the new name."""
        used, out = set(), []
        pop = len(self.doms)
        running = sum(1 for v in self.doms.values() if v[0] == "running")

        def pick(pred):
            names = [k for k, v in self.doms.items() if k not in used and pred(v)]
            return self.rng.choice(names) if names else None

        def add(cmd, op, name, effect):
            out.append((cmd, op, name, effect))
            used.add(name)

        persistent_off = lambda v: v[0] == "shutoff" and not v[1]
        for _ in range(self.a.per_s):
            w = {"define": 2, "undefine": 2, "start": 2, "destroy": 2, "rename": 1.5,
                 "suspend": 0.5, "resume": 0.5, "transient": 0.4}
            if pop < self.a.domains:
                w["define"] *= 3
                w["transient"] *= 2
            elif pop > self.a.domains:
                w["undefine"] *= 3
            if running < pop * self.a.running_pct / 100:
                w["start"] *= 3
            else:
                w["destroy"] *= 3
            op = self.rng.choices(list(w), weights=list(w.values()))[0]
            if op in ("define", "transient"):
                name = self.new_name(used)
                verb = "define" if op == "define" else "create"
                add(f"{verb} {self.xml_file(name)}", op, name,
                    ["shutoff", False] if op == "define" else ["running", True])
                pop += 1
                running += op == "transient"
            elif op == "start" and (name := pick(persistent_off)):
                add(f"start {quote(name)}", op, name, ["running", False])
                running += 1
            elif op == "destroy" and (name := pick(lambda v: v[0] in ("running", "paused"))):
                gone = self.doms[name][1]
                add(f"destroy {quote(name)}", op, name, None if gone else ["shutoff", False])
                running -= 1
                pop -= gone
            elif op == "undefine" and (name := pick(persistent_off)):
                add(f"undefine {quote(name)}", op, name, None)
                pop -= 1
            elif op == "rename" and (name := pick(persistent_off)):
                new = self.new_name(used | {name})
                used.add(new)
                add(f"domrename {quote(name)} {quote(new)}", op, name, new)
            elif op == "suspend" and (name := pick(lambda v: v[0] == "running")):
                add(f"suspend {quote(name)}", op, name, ["paused", self.doms[name][1]])
            elif op == "resume" and (name := pick(lambda v: v[0] == "paused")):
                add(f"resume {quote(name)}", op, name, ["running", self.doms[name][1]])
        return out

    def apply(self, plan):
        for _cmd, op, name, effect in plan:
            self.count(op)
            if op == "rename":
                self.doms[effect] = self.doms.pop(name)
                self.free(name)
            elif effect is None:
                del self.doms[name]
                self.free(name)
            else:
                self.doms[name] = list(effect)

    def step(self):
        plan = self.plan()
        if not plan:
            return
        _out, err = virsh(self.a.uri, [p[0] for p in plan])
        self.calls += 1
        self.apply(plan)
        for p in plan:
            if p[0].startswith(("define ", "create ")):
                os.unlink(p[0].split(" ", 1)[1])
        print(time.strftime("%H:%M:%S"), " | ".join(
            f"{op} {name!r}" + (f" -> {effect!r}" if op == "rename" else "")
            for _c, op, name, effect in plan), flush=True)
        if err:
            self.errors += 1
            print(f"virsh error: {err}", flush=True)
            self.resync("after an error")
        elif time.monotonic() - self.last_resync >= 60:
            self.resync("once a minute")

    def save(self):
        tmp = os.path.join(self.a.workdir, "churn.json.tmp")
        with open(tmp, "w") as f:
            json.dump({"calls": self.calls, "ops": sum(v for k, v in self.counts.items()
                                                      if k != "reused_name"),
                       "counts": self.counts, "virsh_errors": self.errors,
                       "resyncs": self.resyncs, "drift": self.drift,
                       "domains": len(self.doms),
                       "running": sum(1 for v in self.doms.values() if v[0] == "running")}, f)
        os.replace(tmp, os.path.join(self.a.workdir, "churn.json"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("uri")
    ap.add_argument("workdir")
    ap.add_argument("--per-s", type=int, default=3)
    ap.add_argument("--domains", type=int, default=1000)
    ap.add_argument("--running-pct", type=float, default=90)
    ap.add_argument("--seed", type=int, default=12)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    c = Churn(a)
    c.resync("at start")
    next_t = last_save = time.monotonic()
    while not stop:
        c.step()
        now = time.monotonic()
        if now - last_save >= 10:
            c.save()
            last_save = now
        next_t += 1.0
        if next_t > now:
            time.sleep(next_t - now)
        else:
            next_t = now
    c.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
