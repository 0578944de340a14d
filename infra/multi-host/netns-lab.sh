#!/usr/bin/env bash
# Several "hosts" on one Linux machine, to try the multi-host guide (and test it: test/helpers/netns-hosts.ts):
# each host is a network namespace on a private /24 (a bridge in the root namespace holds the "data host"
# address, .1), and a worker host runs a Docker engine of its own inside its namespace.
#
#   netns-lab.sh bridge-up BRIDGE CIDR          bridge BRIDGE with CIDR (e.g. 10.241.7.1/24), the data host's address
#   netns-lab.sh host-up NAME BRIDGE CIDR GW    namespace NAME, a veth NAME's end CIDR, the other end on BRIDGE; default route GW
#   netns-lab.sh dockerd NAME DIR               runs (exec, foreground) a dockerd in NAME with every file under DIR
#   netns-lab.sh exec NAME COMMAND...           runs COMMAND in NAME's network (only: same files, same mounts)
#   netns-lab.sh host-down NAME                 deletes the namespace and its veth
#   netns-lab.sh bridge-down BRIDGE             deletes the bridge
#
# Processes enter a host with `nsenter --net`, not `ip netns exec`: the latter also gives the command a mount
# namespace with /sys remounted, where dockerd finds no cgroups ("Devices cgroup isn't mounted").
# Needs root, iproute2 and util-linux (nsenter). Nothing here touches the machine's own dockerd: the lab's
# engine has its own --data-root, --exec-root (and so its own containerd), socket, pid file, daemon.json
# and cgroup parent, and no default bridge.
set -euo pipefail

die() { echo "[netns-lab] $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, veth, dockerd)"
cmd=${1:-}; shift || true
# veth names: at most 15 characters; the root end is NAME with dashes dropped, plus "h".
veth_of() { local n=${1//-/}; echo "${n:0:14}h"; }

case "$cmd" in
  bridge-up)
    [ $# -eq 2 ] || die "usage: bridge-up BRIDGE CIDR"
    ip link add "$1" type bridge
    ip addr add "$2" dev "$1"
    ip link set "$1" up
    ;;
  host-up)
    [ $# -eq 4 ] || die "usage: host-up NAME BRIDGE CIDR GATEWAY"
    name=$1 bridge=$2 cidr=$3 gw=$4 outer=$(veth_of "$1")
    ip netns add "$name"
    ip link add "$outer" type veth peer name eth0 netns "$name"
    ip link set "$outer" master "$bridge" up
    ip -n "$name" link set lo up
    ip -n "$name" addr add "$cidr" dev eth0
    ip -n "$name" link set eth0 up
    ip -n "$name" route add default via "$gw"
    ;;
  dockerd)
    [ $# -eq 2 ] || die "usage: dockerd NAME DIR"
    name=$1 dir=$2
    mkdir -p "$dir/data" "$dir/exec"
    [ -f "$dir/daemon.json" ] || echo '{}' >"$dir/daemon.json"
    # --bridge none: no docker0 here (the worker makes its hearth-egress network); iptables stay on: they are
    # this namespace's own, and the worker's egress firewall needs Docker's DOCKER-USER chain.
    exec nsenter --net="/run/netns/$name" -- dockerd \
      --config-file "$dir/daemon.json" \
      --data-root "$dir/data" \
      --exec-root "$dir/exec" \
      --host "unix://$dir/docker.sock" \
      --pidfile "$dir/docker.pid" \
      --cgroup-parent "/hearth-lab-$name" \
      --bridge none
    ;;
  exec)
    [ $# -ge 2 ] || die "usage: exec NAME COMMAND..."
    name=$1; shift
    exec nsenter --net="/run/netns/$name" -- "$@"
    ;;
  host-down)
    [ $# -eq 1 ] || die "usage: host-down NAME"
    # Deleting the namespace deletes its end of the veth, and with it the pair.
    ip netns del "$1" 2>/dev/null || true
    ip link del "$(veth_of "$1")" 2>/dev/null || true
    ;;
  bridge-down)
    [ $# -eq 1 ] || die "usage: bridge-down BRIDGE"
    ip link del "$1" 2>/dev/null || true
    ;;
  *)
    die "usage: netns-lab.sh bridge-up|host-up|dockerd|exec|host-down|bridge-down ... (see the top of this file)"
    ;;
esac
