# SPDX-License-Identifier: MIT
# Helpers for the agent's integration tests (kg_* functions; AGENT, NODE_XML, and
# AGENT_PID / LV_* once started); source after tests/integration/lib.sh.

AGENT=$(kg_bin kvmgrid-agent)
NODE_XML="$KG_SOURCE_DIR/tests/fixtures/agent/node.xml"

# Retained messages are read with lib.sh's kg_retained* and kg_has_retained /
# kg_no_retained, JSON with its kg_json_get.

# kg_payload_matches TOPIC PYEXPR: true when TOPIC's retained JSON payload satisfies
# PYEXPR (on d).
kg_payload_matches() {
    _p=$(kg_retained_payload "$1")
    [ -n "$_p" ] && [ "$(kg_json_get "$_p" "$2" 2>/dev/null)" = "True" ]
}

# kg_agent_start LOGNAME ARGS...: the agent on the private broker; sets AGENT_PID.
kg_agent_start() {
    _n=$1; shift
    kg_spawn "$_n" "$AGENT" --broker "$KG_BROKER_URI" --host hv1 --proc-root "" "$@"
    AGENT_PID=$KG_LAST_PID
}

# kg_libvirtd_start PATH: a private, unprivileged libvirtd (session mode, as "nobody"
# when run as root) whose socket is $LV_SOCK, LV_URI its test driver at PATH (LV_PID);
# the test driver behind it keeps one state for every client, so virsh can change
# domains under the agent.
kg_libvirtd_start() {
    LV_DIR="$KG_TMP/libvirt"
    mkdir -p "$LV_DIR"
    chmod 777 "$KG_TMP" "$LV_DIR"
    cat > "$LV_DIR/libvirtd.conf" <<EOC
unix_sock_dir = "$LV_DIR"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0777"
auth_unix_ro = "none"
auth_unix_rw = "none"
EOC
    chmod 644 "$LV_DIR/libvirtd.conf"
    LV_SOCK="$LV_DIR/libvirt-sock"
    rm -f "$LV_SOCK"
    _env="HOME=$LV_DIR XDG_RUNTIME_DIR=$LV_DIR XDG_CONFIG_HOME=$LV_DIR/cfg XDG_CACHE_HOME=$LV_DIR/cache"
    if [ "$(id -u)" = 0 ]; then
        kg_spawn libvirtd setpriv --reuid=nobody --regid=nogroup --clear-groups \
            env $_env libvirtd -f "$LV_DIR/libvirtd.conf"
    else
        kg_spawn libvirtd env $_env libvirtd -f "$LV_DIR/libvirtd.conf"
    fi
    LV_PID=$KG_LAST_PID
    kg_wait_for 20 test -S "$LV_SOCK" || kg_die "libvirtd did not create $LV_SOCK"
    LV_URI="test+unix://$1?socket=$LV_SOCK"
    kg_wait_for 20 virsh -c "$LV_URI" list || kg_die "libvirtd does not answer on $LV_SOCK"
}

# kg_agent_term_while_hung WHAT: SIGTERM to $AGENT_PID while a libvirt call hangs,
# and keeps hanging until the caller ends it afterwards; asserts the agent exits
# with status 0 and its status ($P/status) is then "offline". WHAT says in which
# situation. An agent that waited for the hung call would never exit: a long
# safety deadline (30 s) tells the two apart. How fast it exits (its promise:
# within a second) is a matter for a quiet machine; on a loaded one, a test
# would measure the scheduler, so here the time is only logged.
kg_agent_term_while_hung() {
    _t0=$(date +%s%N)
    kill -TERM "$AGENT_PID"
    _deadline=$(( $(date +%s) + 30 ))
    while kill -0 "$AGENT_PID" 2>/dev/null && [ "$(date +%s)" -lt "$_deadline" ]; do
        sleep 0.02
    done
    _ms=$(( ($(date +%s%N) - _t0) / 1000000 ))
    if kill -0 "$AGENT_PID" 2>/dev/null; then
        kg_fail "agent still running $_ms ms after SIGTERM ($1)"
        kill -KILL "$AGENT_PID"
    fi
    wait "$AGENT_PID"
    kg_assert_eq "exit status 0 after SIGTERM ($1)" 0 "$?"
    kg_log "exited $_ms ms after SIGTERM ($1)"
    kg_assert_eq "status offline" offline "$(kg_retained_payload "$P/status")"
}
