# SPDX-License-Identifier: MIT
# Checks docs/integrations/prometheus/ against what the real programs do: the
# mqtt2prometheus exporters' /metrics and a real Prometheus that scrapes them with
# the shipped prometheus.yml (relabelling), for payloads the real agent published.
# Run by test_prometheus.sh, one step at a time:
#   python3 prometheus_check.py STEP [--within SECONDS] ARGS...
# STEP: dashboard (Prometheus answers every query of kvmgrid-grafana.json),
# values (every mapped figure of every retained payload, exactly, and nothing for
# an absent one), series TOPIC present|absent [METRIC=VALUE ...] (the exporter's
# series of one topic), received TOPIC (prints how many messages of TOPIC the
# exporter stored), received-more TOPIC N (it stored more than N),
# prom-present|prom-absent SELECTOR (Prometheus has series for it, or none).
# --within SECONDS tries the step again every 0.2 s until it passes or time is up.
# Settings come from the environment: KG_PROM_DIR (docs/integrations/prometheus),
# KG_EXPORTER_URL, KG_STATUS_URL (the exporters' /metrics), KG_PROM_URL
# (Prometheus), KG_VMS, KG_HOSTS, KG_STATUS (files of "topic payload" lines, from
# mosquitto_sub -v). Prints one line per check ("ok: ..."); exit 1 on the first
# failure ("FAIL: ...").
import json
import math
import os
import re
import sys
import time
import urllib.parse
import urllib.request

DIR = os.environ.get("KG_PROM_DIR", "")
PREFIX = "kvmgrid/"


class Failed(Exception):
    pass


def fail(msg):
    raise Failed(msg)


def ok(msg):
    print("ok: " + msg, flush=True)


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode("utf-8")


# ---- the shipped exporter config (our own file: a line-based reader is enough)
def load_config(path):
    """[{prom_name, mqtt_name, sensor_name_filter}] in file order: what the config maps
    (how it converts is checked against the units, not read from it)."""
    metrics, cur = [], None
    for line in open(path, encoding="utf-8"):
        s = line.strip()
        m = re.match(r"- prom_name: (\S+)$", s)
        if m:
            cur = {"prom_name": m.group(1)}
            metrics.append(cur)
            continue
        m = re.match(r"(mqtt_name|sensor_name_filter): (.+)$", s)
        if m and cur is not None:
            cur[m.group(1)] = m.group(2).strip('"')
    return metrics


# What a payload figure must become, from its unit (PROTOCOL.md, "Units live in field
# names") and not from the config under test: (field suffix, metric suffix, factor).
UNITS = [("_pct", "_ratio", 0.01), ("_kib", "_bytes", 1024.0), ("_ms", "_seconds", 0.001),
         ("_bytes_per_s", "_bytes_per_second", 1.0), ("_iops", "_requests_per_second", 1.0),
         ("_pkts_per_s", "_packets_per_second", 1.0), ("_per_s", "_per_second", 1.0),
         ("_s", "_seconds", 1.0)]
# libvirt's virDomainState, in order
STATES = ["nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed",
          "pmsuspended"]


def expected(cfg, value):
    """The value the metric must have for a payload value."""
    field, name = cfg["mqtt_name"], cfg["prom_name"]
    if field == "ts":
        if not name.endswith("_timestamp_seconds"):
            fail("%s: ts in a metric not named _timestamp_seconds" % name)
        return float(value) * 0.001
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, str):
        if field != "state":
            fail("%s: string field %s" % (name, field))
        return float(STATES.index(value)) if value in STATES else -1.0
    for fsuf, msuf, factor in UNITS:
        if field.endswith(fsuf):
            if not name.endswith(msuf):
                fail("%s: %s (%s) in a metric not named %s" % (name, field, fsuf, msuf))
            return float(value) * factor
    return float(value)


# ---- Prometheus text exposition
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


def scrape(url):
    """{(name, frozenset(labels.items())): value}"""
    out = {}
    for line in get(url).splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$', line)
        if not m:
            fail("cannot read the exposition line %r" % line)
        labels = {k: unescape(v) for k, v in LABEL.findall(m.group(2) or "")}
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(3))
    return out


def series_of(sc, topic):
    """{metric: value} of one topic's series (labels sensor and topic)."""
    res = {}
    for (name, labels), v in sc.items():
        d = dict(labels)
        if d.get("topic") == topic and "sensor" in d and name.startswith("kvmgrid_"):
            res[name] = (v, d)
    return res


def read_payloads(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line:
            continue
        topic, _, payload = line.partition(" ")
        rows.append((topic, json.loads(payload)))
    return rows


def close(a, b):
    return a == b or (math.isfinite(a) and abs(a - b) <= 1e-9 * max(abs(a), abs(b)))


# ---- Prometheus HTTP API
def prom(path, **params):
    url = os.environ["KG_PROM_URL"] + path + "?" + urllib.parse.urlencode(params, doseq=True)
    d = json.loads(get(url))
    if d.get("status") != "success":
        fail("Prometheus %s: %r" % (path, d))
    return d["data"]


def qstr(s):
    """s as the inside of a PromQL double-quoted string"""
    return s.replace("\\", "\\\\").replace('"', '\\"')


def query(expr):
    return prom("/api/v1/query", query=expr)["result"]


def step_values():
    cfg = load_config(os.path.join(DIR, "mqtt2prometheus-kvmgrid.yaml"))
    vms, hosts = read_payloads(os.environ["KG_VMS"]), read_payloads(os.environ["KG_HOSTS"])
    if len(vms) < 4 or not hosts:
        fail("too few payloads (%d VMs, %d hosts)" % (len(vms), len(hosts)))
    url = os.environ["KG_EXPORTER_URL"]
    # the agent is stopped: wait until the exporter holds the last sample of each topic
    deadline = time.time() + 10
    while True:
        sc = scrape(url)
        behind = [t for t, p in vms + hosts
                  if not close(series_of(sc, t).get(
                      "kvmgrid_vm_sample_timestamp_seconds" if "/vm/" in t else
                      "kvmgrid_host_sample_timestamp_seconds", (-1, None))[0], p["ts"] * 0.001)]
        if not behind:
            break
        if time.time() > deadline:
            t = behind[0]
            fail("the exporter does not hold the retained samples of %s (%s: ts %r, exported %r)"
                 % (behind, t, dict(vms + hosts)[t]["ts"], series_of(sc, t)))
        time.sleep(0.2)
    ok("the exporter holds the retained sample (ts) of all %d VM and %d host topics"
       % (len(vms), len(hosts)))

    mapped = set()
    n_values = n_absent = 0
    for topic, p in vms + hosts:
        device = topic[len(PREFIX):]
        mine = series_of(sc, topic)
        want = set()
        for c in cfg:
            if not re.search(c["sensor_name_filter"], device):
                continue
            field, name = c["mqtt_name"], c["prom_name"]
            mapped.add((("vm" if "/vm/" in topic else "host"), field))
            if field not in p:
                if name in mine:
                    fail("%s: %s is absent from the payload but exported as %r"
                         % (topic, field, mine[name][0]))
                n_absent += 1
                continue
            want.add(name)
            if name not in mine:
                fail("%s: no %s for %s = %r" % (topic, name, field, p[field]))
            got, labels = mine[name]
            if not close(got, expected(c, p[field])):
                fail("%s: %s = %r, want %r (%s = %r)" % (topic, name, got, expected(c, p[field]),
                                                         field, p[field]))
            if labels != {"sensor": device, "topic": topic}:
                fail("%s: %s has labels %r" % (topic, name, labels))
            n_values += 1
        extra = set(mine) - want
        if extra:
            fail("%s: series for no field of its payload: %s" % (topic, sorted(extra)))
    ok("%d exported values equal their payload's figures (scaled to base units), with "
       "exactly the labels sensor=<host>/vm/<vm> or <host>/metrics and topic" % n_values)
    ok("%d figures absent from a payload have no series (none exported as 0)" % n_absent)
    doc = open(os.path.join(DIR, "..", "prometheus.md"), encoding="utf-8").read()
    for c in cfg:
        if "| `%s` | `%s` |" % (c["prom_name"], c["mqtt_name"]) not in doc:
            fail("prometheus.md has no table row for %s (%s)" % (c["prom_name"], c["mqtt_name"]))
    ok("prometheus.md's tables name all %d metrics of the config with their fields" % len(cfg))

    # every figure the agent sends is mapped; the strings and arrays left out are the ones
    # prometheus.md lists
    unmapped = {"vm": {"schema", "host", "name", "uuid", "disks", "nets"},
                "host": {"schema", "name", "agent_version", "collect_path", "libvirt_error"}}
    for kind, rows in (("vm", vms), ("host", hosts)):
        keys = set(k for _, p in rows for k in p)
        left = sorted(k for k in keys if (kind, k) not in mapped and k not in unmapped[kind])
        if left:
            fail("%s fields the agent sent that the config does not map: %s" % (kind, left))
        ok("every %s field the agent sent is mapped, but %s" % (kind, sorted(unmapped[kind] & keys)))
    errors = [dict(l) for (n, l), _ in sc.items()
              if n == "received_messages" and dict(l).get("status") != "success"]
    if errors:
        fail("the exporter failed to store messages: %r" % errors)
    ok("the exporter stored every message it received without an error")

    # the status exporter
    st = scrape(os.environ["KG_STATUS_URL"])
    for topic, payload in (l.rstrip("\n").split(" ", 1) for l in open(os.environ["KG_STATUS"])
                           if l.strip()):
        s = series_of(st, topic).get("kvmgrid_host_online")
        if s is None or s[0] != {"online": 1.0, "offline": 0.0}[payload]:
            fail("%s is %s but kvmgrid_host_online is %r" % (topic, payload, s))
        ok("%s %s: kvmgrid_host_online %g" % (topic, payload, s[0]))


def step_series():
    topic, want = sys.argv[2], sys.argv[3]
    mine = series_of(scrape(os.environ["KG_EXPORTER_URL"]), topic)
    if want == "absent":
        if mine:
            fail("%s still has series: %s" % (topic, sorted(mine)))
        ok("%s has no series" % topic)
        return
    if not mine:
        fail("%s has no series" % topic)
    for kv in sys.argv[4:]:
        name, _, value = kv.partition("=")
        if name not in mine or not close(mine[name][0], float(value)):
            fail("%s: %s is %r, want %s" % (topic, name, mine.get(name, (None,))[0], value))
    ok("%s: %d series%s" % (topic, len(mine), (" with " + ", ".join(sys.argv[4:]))
                            if sys.argv[4:] else ""))


def step_received():
    """Prints how many messages of a topic the exporter stored."""
    n = sum(v for (name, labels), v in scrape(os.environ["KG_EXPORTER_URL"]).items()
            if name == "received_messages" and dict(labels).get("topic") == sys.argv[2])
    print(int(n))


def step_received_more():
    n = sum(v for (name, labels), v in scrape(os.environ["KG_EXPORTER_URL"]).items()
            if name == "received_messages" and dict(labels).get("topic") == sys.argv[2])
    if n <= int(sys.argv[3]):
        fail("the exporter stored %d messages of %s, not more than %s" % (n, sys.argv[2], sys.argv[3]))
    ok("the exporter stored %d messages of %s" % (n, sys.argv[2]))


def step_prom_present():
    res = query(sys.argv[2])
    if not res:
        fail("Prometheus has no series for %s" % sys.argv[2])
    ok("Prometheus has %d series for %s" % (len(res), sys.argv[2]))


def step_prom_absent():
    res = query(sys.argv[2])
    if res:
        fail("Prometheus still answers %s with %r" % (sys.argv[2], res))
    ok("Prometheus has no series for %s" % sys.argv[2])


# ---- the dashboard
def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def step_dashboard():
    vms, hosts = read_payloads(os.environ["KG_VMS"]), read_payloads(os.environ["KG_HOSTS"])
    # 1. the relabelling: host and vm labels from the topic, exactly its levels
    for topic, p in vms + hosts:
        is_vm = "/vm/" in topic
        name = "kvmgrid_vm_state" if is_vm else "kvmgrid_host_sample_timestamp_seconds"
        res = query('%s{topic="%s"}' % (name, qstr(topic)))
        if len(res) != 1:
            fail("Prometheus: %d series of %s for %s" % (len(res), name, topic))
        levels = topic[len(PREFIX):].split("/")
        want = {"host": levels[0]}
        if is_vm:
            want["vm"] = levels[2]
        got = {k: v for k, v in res[0]["metric"].items() if k in ("host", "vm", "sensor")}
        if got != want:
            fail("Prometheus: %s of %s has labels %r, want %r" % (name, topic, got, want))
    ok("Prometheus: every one of %d VM and %d host topics has host (and vm) labels equal to "
       "its topic levels, no sensor label" % (len(vms), len(hosts)))
    for topic, p in vms:
        if "%" in topic or any(ord(c) > 127 for c in topic):
            m = query('kvmgrid_vm_state{topic="%s"}' % qstr(topic))[0]["metric"]
            ok("VM %r on host %r: host=%r vm=%r (topic=%r)" % (p["name"], p["host"], m["host"],
                                                              m["vm"], m["topic"]))

    path = os.path.join(DIR, "kvmgrid-grafana.json")
    d = json.load(open(path, encoding="utf-8"))
    if not isinstance(d.get("schemaVersion"), int):
        fail("kvmgrid-grafana.json: no integer schemaVersion")
    inputs = [i["name"] for i in d.get("__inputs", []) if i.get("pluginId") == "prometheus"]
    if inputs != ["DS_PROMETHEUS"]:
        fail("kvmgrid-grafana.json: __inputs %r" % inputs)
    ok("kvmgrid-grafana.json is JSON, schemaVersion %d, datasource input DS_PROMETHEUS"
       % d["schemaVersion"])
    variables = {v["name"]: v for v in d["templating"]["list"]}
    if set(variables) != {"host", "vm"}:
        fail("template variables %r, want host and vm" % sorted(variables))

    served = set(n for n, _ in scrape(os.environ["KG_EXPORTER_URL"])) | \
        set(n for n, _ in scrape(os.environ["KG_STATUS_URL"]))
    agent_vm = next(t for t, p in vms if p["host"] == "hv1" and "disk_rd_bytes_per_s" in p
                    and "cpu_pct" in p)
    picks = [("hv1", agent_vm.split("/")[-1]), ("hv%201", "web%2F01")]

    def subst(expr, host, vm):
        return expr.replace("$host", host).replace("$vm", vm)

    def metrics_of(expr, where):
        names = set(re.findall(r"\bkvmgrid_\w+", expr))
        if not names:
            fail("%s: no kvmgrid metric in %r" % (where, expr))
        missing = names - served
        if missing:
            fail("%s: %s not served by the exporters" % (where, sorted(missing)))
        return names

    used = set()
    for name, v in variables.items():
        if v.get("datasource", {}).get("uid") != "${DS_PROMETHEUS}":
            fail("variable %s: datasource %r" % (name, v.get("datasource")))
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.match(r"label_values\((.+), *(\w+)\)$", q)
        if not m or m.group(2) != name:
            fail("variable %s: %r is not label_values(..., %s)" % (name, q, name))
        used |= metrics_of(q, "variable " + name)
        values = prom("/api/v1/label/%s/values" % name, **{"match[]": subst(m.group(1), "hv1", ".*")})
        want = "hv1" if name == "host" else agent_vm.split("/")[-1]
        if want not in values:
            fail("variable %s: %s not among %r" % (name, want, values))
        ok("variable %s = %s gives %d values, %s among them" % (name, q, len(values), want))

    n = 0
    for p in walk_panels(d["panels"]):
        if p.get("type") == "row":
            continue
        where = "panel %r" % p.get("title")
        for t in p.get("targets", []):
            for ds in (p.get("datasource"), t.get("datasource")):
                if not ds or ds.get("uid") != "${DS_PROMETHEUS}":
                    fail("%s: datasource %r" % (where, ds))
            used |= metrics_of(t["expr"], where)
            for host, vm in picks:
                e = subst(t["expr"], host, vm)
                res = query(e)
                if res:
                    break
            else:
                fail("%s: Prometheus answers %r with nothing" % (where, t["expr"]))
            n += 1
            ok("%s: %s -> %d series (host %s, vm %s)" % (where, e, len(res), host, vm))
    ok("all %d queries of the dashboard answered; metrics used: %d" % (n, len(used)))


steps = {"values": step_values, "dashboard": step_dashboard, "series": step_series,
         "received": step_received, "received-more": step_received_more,
         "prom-present": step_prom_present, "prom-absent": step_prom_absent}
if len(sys.argv) < 2 or sys.argv[1] not in steps:
    print("usage: prometheus_check.py %s [--within SECONDS] ARGS..." % "|".join(steps))
    sys.exit(2)
# --within SECONDS: try again every 0.2 s until the step passes or the time is up
within = 0.0
if len(sys.argv) > 3 and sys.argv[2] == "--within":
    within = float(sys.argv[3])
    del sys.argv[2:4]
deadline = time.time() + within
while True:
    try:
        steps[sys.argv[1]]()
        break
    except (Failed, OSError) as e:
        if time.time() >= deadline:
            print("FAIL: %s" % e, flush=True)
            sys.exit(1)
        time.sleep(0.2)
