"""Host-side network plumbing: the bubblewrap allow-list namespace and nftables tables we own.

An allow-list sandbox lives in a network namespace ``aar-<id>`` joined to the host by a veth pair on
a /30 from ``10.213.0.0/16``. The namespace has no default route, so any address but the gateway is
unreachable without a packet leaving. On the host, the table ``inet aar_<id>`` rewrites
``gateway:port`` to each allowed ``host:port`` (loopback included, via ``route_localnet`` on that veth
only) and rejects everything else that arrives from the veth; nothing may be opened towards it.
Docker sandboxes use ``guard_bridge`` on their private bridge (the host itself is not reachable) and
``guard_ports`` (each allowed service container only on its allowed ports).
"""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

from sandbox.base import Endpoint, SandboxUnavailableError
from sandbox.settings import SandboxSettings

POOL = ipaddress.IPv4Network("10.213.0.0/16")


def _run(*argv: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise SandboxUnavailableError(f"`{' '.join(argv[:4])}` failed: {proc.stderr.strip()[-300:]}")
    return proc


def table(sandbox_id: str) -> str:
    return f"aar_{sandbox_id}"


def _free_subnet() -> ipaddress.IPv4Network:
    used = _run("ip", "-o", "-4", "addr", "show").stdout
    for subnet in POOL.subnets(new_prefix=30):
        if f" {subnet.network_address + 1}/" not in used:
            return subnet
    raise SandboxUnavailableError(f"no free /30 left in {POOL}")


def create_netns(sandbox_id: str, allow: list[Endpoint]) -> tuple[str, str]:
    """Make the namespace, veth pair and filter table; returns (namespace name, gateway address).

    Callers hold a lock across calls so two sandboxes never pick the same /30.
    """
    ports = [e.port for e in allow]
    if len(set(ports)) != len(ports):
        raise ValueError(f"allow-list ports must differ (each is published on the gateway): {ports}")
    ns, host_if = f"aar-{sandbox_id}", f"aarh{sandbox_id}"
    subnet = _free_subnet()
    gateway, inside = str(subnet.network_address + 1), str(subnet.network_address + 2)
    _run("ip", "netns", "add", ns)
    _run("ip", "link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", ns)
    for conf in ("ipv6/conf/{}/disable_ipv6", "ipv4/conf/{}/route_localnet"):
        Path("/proc/sys/net", conf.format(host_if)).write_text("1")
    _run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
    _run("ip", "addr", "add", f"{gateway}/30", "dev", host_if)
    _run("ip", "link", "set", host_if, "up")
    _run("ip", "-n", ns, "addr", "add", f"{inside}/30", "dev", "eth0")
    _run("ip", "-n", ns, "link", "set", "eth0", "up")
    _run("ip", "-n", ns, "link", "set", "lo", "up")
    dnat = "\n".join(
        f"iifname {host_if} ip daddr {gateway} tcp dport {e.port} dnat ip to {e.host}:{e.port}" for e in allow
    )
    targets = ", ".join(f"{e.host} . {e.port}" for e in allow)
    accept = f"iifname {host_if} ct status dnat ip daddr . tcp dport {{ {targets} }} accept" if allow else ""
    _run(
        "nft",
        "-f",
        "-",
        stdin=f"""
table inet {table(sandbox_id)} {{
  chain sb_pre {{ type nat hook prerouting priority dstnat; policy accept;
    {dnat}
  }}
  chain sb_in {{ type filter hook input priority filter - 1; policy accept;
    iifname {host_if} ct state established,related accept
    {accept}
    iifname {host_if} meta l4proto tcp reject with tcp reset
    iifname {host_if} reject with icmpx type admin-prohibited
  }}
  chain sb_fwd {{ type filter hook forward priority filter - 1; policy accept;
    iifname {host_if} reject with icmpx type admin-prohibited
    oifname {host_if} ct state established,related accept
    oifname {host_if} drop
  }}
}}""",
    )
    return ns, gateway


def _nft(*args: str, stdin: str | None = None, check: bool = True) -> None:
    """Run ``nft`` in the host's network namespace.

    When this process itself runs in a container (the compose stack's campaign runner, which reaches
    the engine through its socket), ``AAR_SANDBOX_NFT_IMAGE`` names an image with nftables, and the
    command runs there, in a short-lived container on the host network with ``NET_ADMIN`` only.
    """
    image = SandboxSettings().nft_image
    if not image:
        _run("nft", *args, stdin=stdin, check=check)
        return
    import docker

    script = 'printf "%s" "$RULES" | nft "$@"' if stdin is not None else 'nft "$@"'
    try:
        docker.from_env().containers.run(
            image,
            ["sh", "-c", script, "nft", *args],
            entrypoint=[],
            environment={"RULES": stdin or ""},
            network_mode="host",
            cap_drop=["ALL"],
            cap_add=["NET_ADMIN"],
            user="0:0",
            remove=True,
        )
    except docker.errors.DockerException as exc:
        if check:
            raise SandboxUnavailableError(f"nft through {image} failed: {exc}") from exc


def guard_bridge(name: str, bridge: str) -> None:
    """Reject anything a Docker bridge sends to the host itself (its gateway address included)."""
    _nft(
        "-f",
        "-",
        stdin=f"""
table inet {name} {{
  chain sb_in {{ type filter hook input priority filter - 1; policy accept;
    iifname {bridge} ct state established,related accept
    iifname {bridge} meta l4proto tcp reject with tcp reset
    iifname {bridge} reject with icmpx type admin-prohibited
  }}
}}""",
    )


def guard_ports(name: str, allowed: dict[str, set[int]]) -> None:
    """On a Docker sandbox's private network, let each service address (``allowed``: address → ports) be
    reached on its allowed TCP ports only: frames bridged to it for any other port or protocol are dropped."""
    rules = "\n".join(
        f"    ip daddr {ip} tcp dport {{ {', '.join(map(str, sorted(ports)))} }} accept\n    ip daddr {ip} drop"
        for ip, ports in allowed.items()
    )
    _nft(
        "-f",
        "-",
        stdin=f"""
table bridge {name} {{
  chain sb_fwd {{ type filter hook forward priority filter - 1; policy accept;
{rules}
  }}
}}""",
    )


def delete_table(name: str) -> None:
    """Remove the nftables tables of ours by that name, ``inet`` and ``bridge`` (idempotent)."""
    for family in ("inet", "bridge"):
        _nft("delete", "table", family, name, check=False)


def delete_netns(sandbox_id: str) -> None:
    """Remove the namespace (its veth pair goes with it) and the filter table (idempotent)."""
    delete_table(table(sandbox_id))
    _run("ip", "netns", "delete", f"aar-{sandbox_id}", check=False)
    _run("ip", "link", "delete", f"aarh{sandbox_id}", check=False)
