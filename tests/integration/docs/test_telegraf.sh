#!/bin/sh
# SPDX-License-Identifier: MIT
# PROTOCOL.md's Telegraf configuration (untested with Telegraf itself: it is not
# in Debian 12) against what the agent really sends: the real agent on libvirt's
# test driver (names with '+', '#', '%', quotes, backslash, non-ASCII; disks and
# interfaces) publishes to a private broker, and telegraf_check.py reads the TOML
# out of PROTOCOL.md with Python's own TOML parser and checks every path, tag and
# excluded key it names, with the types json_v2 needs.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"

kg_broker_start
kg_agent_start agent --libvirt-uri "test://$NODE_XML" --interval 1s
# rates need two samples: wait until a running VM carries one
rates() { kg_retained 'kvmgrid/hv1/vm/+' | grep -q '"disk_rd_bytes_per_s"'; }
kg_wait_for 20 rates || kg_die "no VM payload with rates"
kg_sub_retained "$KG_PORT" 'kvmgrid/+/vm/+' 2 >"$KG_TMP/vms.json"
kg_sub_retained "$KG_PORT" 'kvmgrid/+/metrics' 2 >"$KG_TMP/hosts.json"
kg_log "$(wc -l <"$KG_TMP/vms.json") VM payloads, $(wc -l <"$KG_TMP/hosts.json") host payloads"
if python3 "$KG_SOURCE_DIR/tests/integration/docs/telegraf_check.py" "$KG_SOURCE_DIR/docs/PROTOCOL.md" \
    "$KG_TMP/vms.json" "$KG_TMP/hosts.json" >"$KG_TMP/check.log" 2>&1; then
    while read -r line; do kg_pass "${line#ok: }"; done <"$KG_TMP/check.log"
else
    kg_fail "$(cat "$KG_TMP/check.log")"
fi
kg_stop "$AGENT_PID"
