#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks Home Assistant discovery configs as Home Assistant's MQTT discovery
would read them, against everything retained on the broker.

  ha_check.py --ha-prefix P --doc docs/PROTOCOL.md RETAINED [--list]

RETAINED holds `mosquitto_sub -v` output of the retained messages under '#'
("topic payload" per line). Every non-empty config under P is checked with the
rules below (the same fact table as tests/unit/common/test_ha.c, from Home
Assistant's source and docs: abbreviations.py @911803bf, sensor/const.py
@3fd1a330, discovery.py's topic matcher): its topic, its keys (abbreviations
expanded, "~" applied), unit/device_class/state_class, enum options, the
device; then, against the broker's retained state: the state topic and every
availability topic hold a retained message, each template is one kvmgrid
writes, renders on that message as Home Assistant would (None for an absent
figure, offline for a VM not running), and reads a field that docs/PROTOCOL.md
lists for that payload. --list prints "config_topic unique_id state_topic
rendered_value availability" per config. Exit status 1 with the reasons when a
rule is broken. Home Assistant itself is not run.
"""
import json
import re
import sys

TOP_ABBR = {"avty": "availability", "avty_mode": "availability_mode",
            "avty_t": "availability_topic", "dev": "device", "dev_cla": "device_class",
            "name": "name", "ops": "options", "stat_cla": "state_class",
            "stat_t": "state_topic", "t": "topic", "uniq_id": "unique_id",
            "unit_of_meas": "unit_of_measurement", "val_tpl": "value_template"}
DEV_ABBR = {"cns": "connections", "cu": "configuration_url", "ids": "identifiers",
            "name": "name", "mf": "manufacturer", "mdl": "model", "hw": "hw_version",
            "sw": "sw_version", "sa": "suggested_area"}
SENSOR_KEYS = {"~", "availability", "availability_mode", "availability_topic", "device",
               "device_class", "name", "options", "state_class", "state_topic", "unique_id",
               "unit_of_measurement", "value_template"}
DEVICE_KEYS = {"identifiers", "name", "manufacturer", "model", "sw_version", "via_device"}
AVTY_KEYS = {"topic", "value_template"}
AVTY_MODES = {"all", "any", "latest"}
STATE_CLASSES = {"measurement", "measurement_angle", "total", "total_increasing"}
CLASS_UNITS = {  # device class: (units allowed, state classes allowed)
    "data_rate": ({"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "B/s", "kB/s", "MB/s", "GB/s",
                   "KiB/s", "MiB/s", "GiB/s"}, {"measurement"}),
    "enum": (set(), set()),
}
TOPIC_RE = re.compile(r"(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?"
                      r"(?P<object_id>[a-zA-Z0-9_-]+)/config")
# The templates kvmgrid writes, and how Home Assistant renders them.
VALUE_TPL = re.compile(r"\{\{ value_json\.(\w+) if value_json is defined and "
                       r"value_json\.(\w+) is defined else None \}\}")
AVTY_RUNNING = ("{{ 'online' if value_json is defined and value_json.state == 'running' "
                "else 'offline' }}")
AVTY_PAYLOAD = "{{ 'online' if value_json is defined else 'offline' }}"


def doc_fields(doc):
    """Field names of the host and VM payload tables of PROTOCOL.md."""
    out = {}
    for kind, head in (("host", "## Host payload"), ("vm", "## VM payload")):
        part = doc.split(head, 1)[1].split("\n## ", 1)[0]
        names = set()
        for line in part.splitlines():
            if line.startswith("| `"):
                names.update(re.findall(r"`([a-z0-9_]+)`", line.split("|")[1]))
        out[kind] = names
    return out


def json_of(payload):
    try:
        return json.loads(payload)
    except ValueError:
        return None


def render_value(tpl, payload):
    m = VALUE_TPL.fullmatch(tpl)
    if not m or m.group(1) != m.group(2):
        return None, "value template kvmgrid does not write: %r" % tpl
    d = json_of(payload)
    if not isinstance(d, dict) or m.group(1) not in d:
        return "None", None
    v = d[m.group(1)]
    return (str(v) if not isinstance(v, bool) else str(v)), None


def render_avty(tpl, payload):
    d = json_of(payload)
    if tpl is None:
        return payload
    if tpl == AVTY_RUNNING:
        return "online" if isinstance(d, dict) and d.get("state") == "running" else "offline"
    if tpl == AVTY_PAYLOAD:
        return "online" if d is not None else "offline"
    raise ValueError("availability template kvmgrid does not write: %r" % tpl)


def expand(obj, table):
    return {table.get(k, k): v for k, v in obj.items()}


def base_topic(value, base):
    if not value:
        return value
    if value[0] == "~":
        return base + value[1:]
    if value[-1] == "~":
        return value[:-1] + base
    return value


def check(topic, payload, ha_prefix, retained, fields, errs):
    """Returns the config as read, or None; appends to errs."""
    def bad(msg):
        errs.append("%s: %s" % (topic, msg))
    rest = topic[len(ha_prefix) + 1:]
    m = TOPIC_RE.fullmatch(rest)
    if not topic.startswith(ha_prefix + "/") or not m:
        bad("not a discovery topic")
        return None
    if m.group("component") != "sensor":
        bad("component %s" % m.group("component"))
    try:
        raw = json.loads(payload)
    except ValueError as e:
        bad("not JSON: %s" % e)
        return None
    for k in raw:
        if TOP_ABBR.get(k, k) not in SENSOR_KEYS:
            bad("key %r is neither an abbreviation nor a sensor option" % k)
    c = expand(raw, TOP_ABBR)
    avty = c.get("availability")
    if avty is not None:
        c["availability"] = []
        for a in avty:
            for k in a:
                if TOP_ABBR.get(k, k) not in AVTY_KEYS:
                    bad("availability key %r" % k)
            c["availability"].append(expand(a, TOP_ABBR))
    dev = c.get("device")
    if not isinstance(dev, dict):
        bad("no device")
        return None
    for k in dev:
        if DEV_ABBR.get(k, k) not in DEVICE_KEYS:
            bad("device key %r" % k)
    dev = c["device"] = expand(dev, DEV_ABBR)
    base = c.pop("~", None)
    if base is not None:
        for k in list(c):
            if k.endswith("topic") and isinstance(c[k], str):
                c[k] = base_topic(c[k], base)
        for a in c.get("availability") or []:
            a["topic"] = base_topic(a.get("topic"), base)
    # the sensor's own rules
    for req in ("state_topic", "unique_id", "name"):
        if not isinstance(c.get(req), str) or not c[req]:
            bad("missing %s" % req)
            return None
    unit, dc, sc, ops = (c.get("unit_of_measurement"), c.get("device_class"),
                         c.get("state_class"), c.get("options"))
    if sc is not None and sc not in STATE_CLASSES:
        bad("state class %s" % sc)
    if dc is not None:
        if dc not in CLASS_UNITS:
            bad("device class %s not in the fact table" % dc)
        else:
            units, classes = CLASS_UNITS[dc]
            if unit is not None and unit not in units:
                bad("unit %s not allowed with device class %s" % (unit, dc))
            if units and unit is None:
                bad("device class %s without a unit" % dc)
            if sc is not None and sc not in classes:
                bad("state class %s not allowed with device class %s" % (sc, dc))
    if ops is not None:
        if not isinstance(ops, list) or not ops or unit is not None or sc is not None \
                or dc != "enum":
            bad("options need device class enum, no unit, no state class, and a value")
    elif dc == "enum":
        bad("enum without options")
    if ("availability" in c) == ("availability_topic" in c):
        bad("availability and availability_topic: exactly one")
    if c.get("availability_mode", "latest") not in AVTY_MODES:
        bad("availability_mode %s" % c.get("availability_mode"))
    ids = dev.get("identifiers")
    if not isinstance(ids, list) or not ids or not dev.get("name"):
        bad("device without identifiers or name")
    # against the broker's retained state
    st = c["state_topic"]
    if st not in retained:
        bad("state topic %s holds no retained message" % st)
        return c
    value, why = render_value(c.get("value_template", ""), retained[st])
    if why:
        bad(why)
    field = VALUE_TPL.fullmatch(c.get("value_template", ""))
    kind = "host" if st.endswith("/metrics") else "vm"
    if field and field.group(1) not in fields[kind]:
        bad("template reads %s, not a field of the %s payload (PROTOCOL.md)"
            % (field.group(1), kind))
    if ops is not None and value != "None" and value not in ops:
        bad("state %s is not one of its options" % value)
    items = c.get("availability") or [{"topic": c.get("availability_topic")}]
    states = []
    for a in items:
        t = a.get("topic")
        if t not in retained:
            bad("availability topic %s holds no retained message" % t)
            continue
        try:
            states.append(render_avty(a.get("value_template"), retained[t]))
        except ValueError as e:
            bad(str(e))
    mode = c.get("availability_mode", "latest")
    ok = all(s == "online" for s in states) if mode == "all" else "online" in states
    c["_value"] = value
    c["_available"] = "online" if ok else "offline"
    return c


def main(argv):
    args = argv[1:]
    listing = "--list" in args
    args = [a for a in args if a != "--list"]
    ha_prefix = args[args.index("--ha-prefix") + 1]
    doc = open(args[args.index("--doc") + 1], encoding="utf-8").read()
    path = [a for i, a in enumerate(args) if i == len(args) - 1][0]
    retained = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            topic, _, payload = line.partition(" ")
            retained[topic] = payload
    fields = doc_fields(doc)
    errs, seen_uid, n = [], {}, 0
    for topic in sorted(retained):
        if not (topic.startswith(ha_prefix + "/") and topic.endswith("/config")):
            continue
        if not retained[topic]:
            continue
        n += 1
        c = check(topic, retained[topic], ha_prefix, retained, fields, errs)
        if not c:
            continue
        uid = c["unique_id"]
        if uid in seen_uid:
            errs.append("%s: unique_id %s also in %s" % (topic, uid, seen_uid[uid]))
        seen_uid[uid] = topic
        if listing:
            print(topic, uid, c["state_topic"], c["_value"], c["_available"])
    for e in errs:
        print("ha_check: " + e, file=sys.stderr)
    print("ha_check: %d configs, %d problems" % (n, len(errs)), file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
