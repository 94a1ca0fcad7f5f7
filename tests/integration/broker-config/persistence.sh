#!/bin/sh
# SPDX-License-Identifier: MIT
# production.conf persists retained state: after a clean broker restart (and
# after a second one), a new wall still gets every host's status, metrics and
# VMs, a deleted VM stays deleted, and the load state is there too. The
# persistence file lives in the test's temp dir.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/broker-config/broker-lib.sh"

kg_prod_setup prod agent:web-01 agent:web-02 wall:lobby load:vm-7
kg_prod_start prod1

kg_prod_pub web-01 kvmgrid/web-01/status online -r >/dev/null
kg_prod_pub web-01 kvmgrid/web-01/metrics '{"cpu_pct":12.5}' -r >/dev/null
kg_prod_pub web-01 kvmgrid/web-01/vm/db-1 '{"cpu_pct":40}' -r >/dev/null
kg_prod_pub web-01 kvmgrid/web-01/vm/gone '{"cpu_pct":1}' -r >/dev/null
kg_prod_pub web-01 kvmgrid/web-01/vm/gone '' -r >/dev/null        # VM removed
kg_prod_pub web-02 kvmgrid/web-02/status offline -r >/dev/null
kg_prod_pub load@vm-7 kvmgrid/vm-7/load/state '{"state":"idle"}' -r >/dev/null

retained() { kg_prod_retained wall@lobby 'kvmgrid/#'; }
expected='kvmgrid/vm-7/load/state {"state":"idle"}
kvmgrid/web-01/metrics {"cpu_pct":12.5}
kvmgrid/web-01/status online
kvmgrid/web-01/vm/db-1 {"cpu_pct":40}
kvmgrid/web-02/status offline'
retained_complete() { [ "$(retained)" = "$expected" ]; }
kg_wait_for 10 retained_complete || true
kg_assert_eq "retained state before the restart" "$expected" "$(retained)"

kg_stop "$KG_PROD_PID"   # SIGTERM: mosquitto saves its database on the way out
kg_assert_eq "broker exited cleanly" 0 "$KG_EXIT_STATUS"
[ -s "$KG_PROD_DIR/data/mosquitto.db" ] && kg_pass "persistence file written in the data dir" ||
    kg_fail "no $KG_PROD_DIR/data/mosquitto.db"

for round in 1 2; do
    kg_prod_start "prod-restart$round"
    kg_wait_for 10 retained_complete || true
    kg_assert_eq "retained state after restart $round" "$expected" "$(retained)"
    kg_stop "$KG_PROD_PID"
done

# Without persistence (dev.conf) the same restart loses everything: the
# setting is what makes the difference.
kg_broker_start
kg_pub kvmgrid/web-01/status online -r -q 1
kg_assert_eq "dev broker holds the message" "kvmgrid/web-01/status online" "$(kg_retained 'kvmgrid/#' 1)"
kg_broker_stop
kg_broker_start
kg_assert_eq "dev broker (persistence false) forgets it on restart" "" "$(kg_retained 'kvmgrid/#' 1)"
kg_broker_stop
