"""The one place that imports the OpenFlow controller framework: Ryu 4.34, else os-ken.

Ryu 4.34 (the last release) imports `eventlet.wsgi.ALREADY_HANDLED`, which eventlet
removed; on Python >= 3.10 we set it before importing Ryu (measured to work with eventlet
0.33.3). os-ken is OpenStack's maintained fork with the same API under `os_ken` and
`OSKenApp`. Everything else imports these names from here, so either runs the same app.
"""
from __future__ import annotations

try:
    import eventlet.wsgi

    if not hasattr(eventlet.wsgi, "ALREADY_HANDLED"):
        eventlet.wsgi.ALREADY_HANDLED = object()
    from ryu import cfg
    from ryu.base import app_manager
    from ryu.base.app_manager import RyuApp as App
    from ryu.controller import ofp_event
    from ryu.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
    from ryu.lib import hub
    from ryu.lib.packet import arp, ethernet, icmp, ipv4, packet, udp
    from ryu.ofproto import ether, inet, ofproto_v1_3

    NAME = "ryu"
except ImportError:  # pragma: no cover - exercised where only os-ken is installed
    from os_ken import cfg  # type: ignore[no-redef]
    from os_ken.base import app_manager  # type: ignore[no-redef]
    from os_ken.base.app_manager import OSKenApp as App  # type: ignore[no-redef]
    from os_ken.controller import ofp_event  # type: ignore[no-redef]
    from os_ken.controller.handler import (CONFIG_DISPATCHER,  # type: ignore[no-redef]
                                           MAIN_DISPATCHER, set_ev_cls)
    from os_ken.lib import hub  # type: ignore[no-redef]
    from os_ken.lib.packet import arp, ethernet, icmp, ipv4, packet, udp  # type: ignore[no-redef]
    from os_ken.ofproto import ether, inet, ofproto_v1_3  # type: ignore[no-redef]

    NAME = "os-ken"


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version as dist_version
    try:
        return f"{NAME} {dist_version('ryu' if NAME == 'ryu' else 'os-ken')}"
    except PackageNotFoundError:
        return NAME


def run(app_module: str, listen_host: str, listen_port: int) -> None:
    """Run one app like ryu-manager does, without ryu-manager (blocks until killed)."""
    hub.patch(thread=False)
    cfg.CONF(args=[f"--ofp-listen-host={listen_host}", f"--ofp-tcp-listen-port={listen_port}"],
             project=NAME, version=version())
    manager = app_manager.AppManager.get_instance()
    manager.load_apps([app_module])
    contexts = manager.create_contexts()
    services = manager.instantiate_apps(**contexts)
    try:
        hub.joinall(services)
    finally:
        manager.close()
