#!/bin/sh
# SPDX-License-Identifier: MIT
# A session killed with SIGKILL cannot say goodbye: the broker publishes its
# will, retained, which an outside client then finds.
. "${KG_SOURCE_DIR:=$(cd "$(dirname "$0")/../../.." && pwd)}/tests/integration/lib.sh" || exit 1
TOOL=$(kg_bin kg-mqtt-tool)
kg_broker_start

kg_spawn run "$TOOL" run "$KG_BROKER_URI" kgtest/h1 --will kgtest/h1/status offline --will-retain \
    --keepalive 5
RUN=$KG_LAST_PID
online() { [ "$(kg_retained kgtest/h1/status 1)" = "kgtest/h1/status online" ]; }
kg_wait_for 15 online || kg_die "status never became online"
kg_pass "status online while the session runs"

kill -KILL "$RUN"
wait "$RUN" 2>/dev/null
offline() { [ "$(kg_retained kgtest/h1/status 1)" = "kgtest/h1/status offline" ]; }
if kg_wait_for 15 offline; then kg_pass "will published as retained offline after SIGKILL"
else kg_fail "no will after SIGKILL: $(kg_retained kgtest/h1/status 1)"; fi
