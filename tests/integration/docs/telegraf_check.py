# SPDX-License-Identifier: MIT
# Checks PROTOCOL.md's Telegraf configuration against payloads the agent sent:
# every path, tag and excluded key it names is in the payloads with the type
# Telegraf's json_v2 parser needs, and what it turns into fields is numbers or
# booleans. Telegraf itself is not in Debian 12; this is the next best proof.
#   python3 telegraf_check.py PROTOCOL.md VM_PAYLOADS_FILE HOST_PAYLOADS_FILE
# (payload files: one JSON object per line). Prints one line per check; exit 1
# on the first failure.
import json
import re
import sys
import tomllib


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def ok(msg):
    print("ok: " + msg)


doc = open(sys.argv[1], encoding="utf-8").read()
section = doc.split("## Telegraf", 1)[1]
m = re.search(r"```toml\n(.*?)```", section, re.S)
if not m:
    fail("no toml block under the Telegraf heading")
conf = tomllib.loads(m.group(1))
vms = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
hosts = [json.loads(l) for l in open(sys.argv[3], encoding="utf-8") if l.strip()]
if len(vms) < 3 or not hosts:
    fail("too few payloads to check (%d VMs, %d hosts)" % (len(vms), len(hosts)))

consumer = conf["inputs"]["mqtt_consumer"][0]
if consumer["data_format"] != "json_v2":
    fail("data_format is not json_v2")
if consumer["topics"] != ["kvmgrid/+/vm/+"]:
    fail("topics: %r" % consumer["topics"])
ok("mqtt_consumer on kvmgrid/+/vm/+ with json_v2")

seen_keys = set()
for p in vms:
    seen_keys.update(p.keys())

for parser in consumer["json_v2"]:
    name = parser["measurement_name"]
    ts = parser["timestamp_path"]
    for p in vms:
        v = p.get(ts)
        if not isinstance(v, int) or isinstance(v, bool) or v < 10**12:
            fail("%s: timestamp_path %s is not epoch ms in %s" % (name, ts, p.get("name")))
    if parser["timestamp_format"] != "unix_ms":
        fail("%s: timestamp_format" % name)
    ok("%s: %s is an integer of epoch ms in all %d payloads" % (name, ts, len(vms)))
    for tag in parser.get("tag", []):
        for p in vms:
            if not isinstance(p.get(tag["path"]), str):
                fail("%s: tag %s is not a string in %s" % (name, tag["path"], p.get("name")))
        ok("%s: tag %s%s is a string in every payload" %
           (name, tag["path"], " (as %s)" % tag["rename"] if "rename" in tag else ""))
    for obj in parser.get("object", []):
        path = obj["path"]
        if path == "@this":
            excluded = set(obj.get("excluded_keys", []))
            unknown = excluded - seen_keys
            if unknown:
                fail("%s: excluded_keys not in any payload: %s" % (name, sorted(unknown)))
            fields = set()
            for p in vms:
                for k, v in p.items():
                    if k in excluded:
                        continue
                    if isinstance(v, (str, list, dict)) or v is None:
                        fail("%s: field %s of %s is %s, not a number or boolean" %
                             (name, k, p.get("name"), type(v).__name__))
                    fields.add(k)
            for want in ("cpu_pct", "mem_used_pct", "disk_rd_bytes_per_s", "net_rx_bytes_per_s",
                         "stale"):
                if want not in fields:
                    fail("%s: no field %s in any payload" % (name, want))
            ok("%s: the %d fields left after excluded_keys are numbers or booleans (%s ...)" %
               (name, len(fields), ", ".join(sorted(fields)[:6])))
        else:
            rows = [d for p in vms for d in p.get(path, [])]
            if not rows:
                fail("%s: no payload has %s" % (name, path))
            for d in rows:
                if not isinstance(d, dict):
                    fail("%s: %s holds a %s" % (name, path, type(d).__name__))
                for t in obj.get("tags", []):
                    if not isinstance(d.get(t), str):
                        fail("%s: %s[].%s is not a string" % (name, path, t))
                for k, v in d.items():
                    if k not in obj.get("tags", []) and not isinstance(v, (int, float)):
                        fail("%s: %s[].%s is %s" % (name, path, k, type(v).__name__))
            ok("%s: %d %s entries, tags %s strings, every other value a number" %
               (name, len(rows), path, obj.get("tags")))

for h in hosts:
    if not isinstance(h.get("name"), str) or not isinstance(h.get("ts"), int):
        fail("host payload without name or ts: %r" % h)
ok("host payloads (kvmgrid/+/metrics): name is a string, ts an integer, in all %d" % len(hosts))
