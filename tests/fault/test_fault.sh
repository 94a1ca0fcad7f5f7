#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole system through an operator's bad day. A private mosquitto that
# persists its retained store (autosaved every second), a private libvirtd
# (test driver, shared state), two agents (hosts hv1 and hv2) on it, a headless
# wall and a load listener. In turn:
#   1. kill -9 the broker (domains change while it is down) and restart it on
#      the same port and persistence file;
#   2. SIGSTOP the broker for longer than the clients' keepalive (30 s), with
#      domains changing meanwhile, then SIGCONT;
#   3. stop libvirtd and start it again (the test driver comes back with its
#      default node only: every domain defined before is gone);
#   4. kill -9 agent hv1 (domains change while it is dead) and start it again;
#   5. kill -9 agent hv2 and leave it dead.
# After each: the broker's retained state equals libvirt's domains for every
# live host, the dead host is offline through its will, the wall's model (its
# layout dump) equals the retained state, every process that should run does,
# the load listener still takes a command, and each process's RSS is within
# twice its size after start-up plus 32 MiB. KG_FAULT_HOLD=SECONDS keeps every
# process running that long after a failed comparison, for a look by hand.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"
. "$KG_SOURCE_DIR/tests/integration/viewer/headless.sh"
LOAD=$(kg_bin kvmgrid-load)
CHECK="python3 $KG_SOURCE_DIR/tests/fault/check.py"
# sanitizer builds: no quarantine, so that RSS measures what the program keeps
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=0"

mkdir -p "$KG_TMP/persist"
chmod 777 "$KG_TMP/persist" # mosquitto drops root for its own user
cat > "$KG_TMP/persist.conf" <<EOC
persistence true
persistence_location $KG_TMP/persist/
autosave_interval 1
EOC
kg_broker_start "$KG_TMP/persist.conf"
kg_libvirtd_start /default
virsh_() { virsh -q -c "$LV_URI" "$@" >>"$KG_TMP/virsh.log" 2>&1; }

# define NAME [start|pause]: a test-driver domain with a UUID from its name
define() {
    _u=$(printf '%s' "$1" | md5sum | sed 's/^\(.\{8\}\)\(.\{4\}\).\(.\{3\}\).\(.\{3\}\)\(.\{12\}\).*/\1-\2-4\3-8\4-\5/')
    cat > "$KG_TMP/dom.xml" <<EOX
<domain type='test'><name>$1</name><uuid>$_u</uuid>
  <memory>262144</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>
EOX
    virsh_ define "$KG_TMP/dom.xml" || kg_fail "virsh define $1"
    case "${2:-}" in
    start) virsh_ start "$1" || kg_fail "virsh start $1" ;;
    pause) virsh_ start "$1" && virsh_ suspend "$1" || kg_fail "virsh start+suspend $1" ;;
    esac
}
populate() {
    define vm-a start; define vm-b start; define vm-c pause; define vm-d; define vm-e start
    define vm-f
}

start_agent() { # HOST: sets AGENT_<HOST>
    kg_spawn "agent-$1" "$AGENT" --broker "$KG_BROKER_URI" --host "$1" --proc-root "" \
        --libvirt-uri "$LV_URI" --interval 1s --log-level debug
    eval "AGENT_$1=\$KG_LAST_PID"
}
start_agent hv1
start_agent hv2
# the test driver keeps its state only while a connection stays open: the agents'
agents_read() { grep -q 'cycle: libvirt ok' "$KG_TMP/agent-hv1.log" && grep -q 'cycle: libvirt ok' "$KG_TMP/agent-hv2.log"; }
kg_wait_for 20 agents_read || kg_die "the agents never read libvirt"
populate
DUMP="$KG_TMP/layout.txt"
kg_spawn wall "$WALL" --broker "$KG_BROKER_URI" --size 640x480 --interval 1s \
    --dump-layout "$DUMP" --log-level debug
WALL_PID=$KG_LAST_PID
# SIGUSR1 before the wall installs its handler would end it
kg_wait_for 20 grep -q 'mqtt: connected' "$KG_TMP/wall.log" || kg_die "the wall never connected"
kg_spawn load "$LOAD" --listen --broker "$KG_BROKER_URI" --node n1 --disk-dir "" \
    --max-mib 64 --max-workers 1 --state-interval 500ms --log-level debug
LOAD_PID=$KG_LAST_PID
LIVE=hv1,hv2 DEAD=""

procs() { # the processes that must run now, as NAME=PID
    echo "broker=$KG_BROKER_PID libvirtd=$LV_PID wall=$WALL_PID load=$LOAD_PID agent-hv1=$AGENT_hv1"
    case ",$DEAD," in *,hv2,*) ;; *) echo "agent-hv2=$AGENT_hv2" ;; esac
}

# agreed: one comparison of libvirt, broker and wall (differences in diff.txt)
agreed() {
    _n=$(grep -c '^view ' "$KG_TMP/wall.log" 2>/dev/null)
    kill -USR1 "$WALL_PID" 2>/dev/null || return 1
    # the dump is written right after the view line. Not kg_wait_for: the
    # caller's kg_wait_for would lose its own deadline (one global in sh)
    _t=0
    while [ "$(grep -c '^view ' "$KG_TMP/wall.log")" -le "${_n:-0}" ]; do
        _t=$((_t + 1)); [ $_t -gt 50 ] && return 1; sleep 0.1
    done
    sleep 0.1
    $CHECK --port "$KG_PORT" --uri "$LV_URI" --live "$LIVE" --dead "$DEAD" --wall "$DUMP" \
        >"$KG_TMP/diff.txt" 2>&1
}

load_answers() { # TAG: a command sent now runs (state names its id)
    _i=0
    while [ $_i -lt 15 ]; do
        _i=$((_i + 1))
        kg_pub kvmgrid/n1/load/cmd \
            "{\"schema\":1,\"cmd\":\"start\",\"id\":\"$1-$_i\",\"kind\":\"cpu\",\"pct\":5,\"workers\":1,\"duration_s\":1}" -q 1
        if kg_wait_for 2 sh -c "mosquitto_sub -h 127.0.0.1 -p $KG_PORT -t kvmgrid/n1/load/state -C 1 -W 1 | grep -q '\"id\":\"$1-'"; then
            return 0
        fi
    done
    return 1
}

# after WHAT: every check, after one fault
after() {
    if kg_wait_for 60 agreed; then
        kg_pass "$1: libvirt, broker and wall agree"
    else
        kg_fail "$1: libvirt, broker and wall still differ after 60 s:"
        sed 's/^/    /' "$KG_TMP/diff.txt" >&2
        if [ -n "${KG_FAULT_HOLD:-}" ]; then kg_log "holding for inspection"; sleep "$KG_FAULT_HOLD"; fi
    fi
    for p in $(procs); do
        if kill -0 "${p#*=}" 2>/dev/null; then :; else kg_fail "$1: ${p%%=*} (pid ${p#*=}) is not running"; fi
    done
    load_answers "$2" && kg_pass "$1: the load listener runs a command" \
        || kg_fail "$1: the load listener did not run a command in 30 s"
    line=""
    for p in $(procs); do
        n=${p%%=*} r=$(kg_rss_kib "${p#*=}")
        eval "b=\${BASE_$(echo "$n" | tr -- '-' '_'):-}"
        line="$line $n ${r}k"
        if [ -n "$b" ] && [ "$r" -gt $((2 * b + 32768)) ]; then
            kg_fail "$1: $n RSS ${r} KiB, more than twice its ${b} KiB after start-up + 32 MiB"
        fi
    done
    kg_log "$1: RSS$line"
}

after "start-up" s0
for p in $(procs); do eval "BASE_$(echo "${p%%=*}" | tr -- '-' '_')=$(kg_rss_kib "${p#*=}")"; done

# 1. broker kill -9; domains change while it is down; restart on its persistence
sleep 2 # an autosave holds vm-f
kg_broker_stop KILL
virsh_ undefine vm-f
define vm-g start
virsh_ destroy vm-e
kg_broker_start "$KG_TMP/persist.conf"
after "broker kill -9 and restart" f1

# 2. broker frozen past the keepalive
kill -STOP "$KG_BROKER_PID"
virsh_ start vm-d
virsh_ suspend vm-a
define vm-h
sleep 40
kill -CONT "$KG_BROKER_PID"
after "broker SIGSTOP 40 s, SIGCONT" f2

# 3. libvirtd away and back: the test driver starts again from its default node
kg_stop "$LV_PID"
kg_log "libvirtd stopped (status $KG_EXIT_STATUS)"
sleep 3
: > "$KG_TMP/agent-hv1.log"; : > "$KG_TMP/agent-hv2.log"
kg_libvirtd_start /default
kg_wait_for 30 agents_read || kg_fail "the agents did not read the new libvirtd"
after "libvirtd stop and start" f3
populate

# 4. agent hv1 kill -9; domains change while it is dead; start it again
kg_stop "$AGENT_hv1" KILL
virsh_ undefine vm-d
define vm-x start
virsh_ destroy vm-b
start_agent hv1
after "agent hv1 kill -9 and restart" f4

# 5. agent hv2 kill -9, left dead: its will says offline
kg_stop "$AGENT_hv2" KILL
virsh_ destroy vm-c; virsh_ undefine vm-c
LIVE=hv1 DEAD=hv2
after "agent hv2 kill -9, left dead" f5
