#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine, in a directory of its own, for the tests (and for trying
# `srun wattprint run` by hand). Needs root and Debian's slurm-wlm and munge packages.
#   tests/cluster/slurm_cluster.sh start DIR   munged, slurmctld and slurmd with DIR/slurm.conf; waits until the
#                                              node is idle; prints `export SLURM_CONF=DIR/slurm.conf`
#   tests/cluster/slurm_cluster.sh stop DIR    stops the three daemons (DIR is kept, with the logs in DIR/log)
# Free TCP ports on 127.0.0.1 (no name lookup of the host), nothing in /etc used or changed; processes tracked
# with proctrack/linuxproc, so no cgroup is needed (the test machines are sandboxes whose cgroups are read-only).
set -euo pipefail

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -eq 2 ] || usage
action=$1
dir=$(realpath -m "$2")

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_cluster() {
  local pids=()
  for pid_file in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    [ -f "$pid_file" ] && pids+=("$(cat "$pid_file")")
  done
  [ ${#pids[@]} -eq 0 ] && return 0
  kill "${pids[@]}" 2>/dev/null || true
  # Wait for them to exit (10 s), then kill what is left.
  for _ in $(seq 100); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && return 0
    sleep 0.1
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
}

case "$action" in
  start)
    # A start that fails says which command, with the daemons' last log lines (set -e alone exits silently).
    trap 'rc=$?; echo "slurm_cluster.sh: line $LINENO: \"$BASH_COMMAND\" failed (exit $rc)" >&2
      for f in "$dir"/log/*.log; do if [ -f "$f" ]; then tail -n 20 "$f" >&2 || true; fi; done
      exit $rc' ERR
    if [ "$(id -u)" != 0 ]; then
      echo "slurm_cluster.sh: must run as root (slurmd starts jobs as their users)" >&2
      exit 1
    fi
    for tool in munged slurmctld slurmd srun sinfo; do
      command -v "$tool" >/dev/null || {
        echo "slurm_cluster.sh: $tool not found: apt-get install slurm-wlm munge" >&2
        exit 1
      }
    done
    mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
    chmod 700 "$dir/munge"
    head -c 1024 /dev/urandom >"$dir/munge/munge.key"
    chmod 600 "$dir/munge/munge.key"
    munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
      --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed"
    node=$(hostname -s)
    ctld_port=$(free_port)
    slurmd_port=$(free_port)
    while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done
    cat >"$dir/slurm.conf" <<CONF
# One-node cluster for wattprint's tests (tests/cluster/slurm_cluster.sh).
ClusterName=wattprint-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
    export SLURM_CONF="$dir/slurm.conf"
    slurmctld -f "$SLURM_CONF" -i
    slurmd -f "$SLURM_CONF"
    for _ in $(seq 300); do
      state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
      if [ "$state" = idle ]; then
        echo "export SLURM_CONF=$SLURM_CONF"
        exit 0
      fi
      sleep 0.2
    done
    echo "slurm_cluster.sh: the node did not become idle within 60 s (state: '${state:-none}'); logs in $dir/log" >&2
    tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    stop_cluster
    exit 1
    ;;
  stop)
    stop_cluster
    ;;
  *)
    usage
    ;;
esac
