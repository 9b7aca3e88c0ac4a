"""`testbed` command line: parses arguments and calls the layers; nothing else.

Exit codes: 0 success, 1 the network did not do what was asked (e.g. unreachable pairs),
2 bad input or a missing prerequisite (one clear message, never a traceback).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

from . import __version__
from .model import InvalidInput, json_schema, load_topology

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _die(args: argparse.Namespace, message: str, hint: str = "") -> int:
    args.ui.error(message, hint)
    return EXIT_USAGE


def _print_invalid(exc: InvalidInput) -> int:
    """One unwrapped line per problem (file:line:col: ...), parseable by editors."""
    for diag in exc.diagnostics:
        print(diag, file=sys.stderr)
    print(f"{len(exc.diagnostics)} problem(s)", file=sys.stderr)
    return EXIT_USAGE


def cmd_validate(args: argparse.Namespace) -> int:
    from .experiment.loader import is_experiment, read_document, validate_experiment
    from .model.loader import validate_topology
    out = args.ui.out
    status = EXIT_OK
    for path in args.files:
        try:
            text, data, positions = read_document(path)
            if isinstance(data, dict) and "checks" in data:
                from .grading.loader import load_rubric
                rubric = load_rubric(path)
                out.print(f"{path}: ok (rubric: {len(rubric.checks)} checks, "
                          f"{rubric.total:g} points)", highlight=False)
                continue
            if is_experiment(data):
                plan = validate_experiment(path, text, data, positions)
                exp = plan.experiment
                out.print(f"{path}: ok (experiment on {plan.net.name}: {exp.trials} trial(s) "
                          f"of {exp.duration:g} s, {len(exp.workloads)} workload(s), "
                          f"{len(exp.overlays)} overlay(s), {len(exp.timeline)} event(s))",
                          highlight=False)
                continue
            net = validate_topology(data, positions, path)
        except InvalidInput as exc:
            _print_invalid(exc)
            status = EXIT_USAGE
            continue
        out.print(f"{path}: ok ({len(net.ases)} ASes, {len(net.routers)} routers, "
                  f"{len(net.hosts)} hosts, {len(net.links)} links)", highlight=False)
    return status


def cmd_schema(args: argparse.Namespace) -> int:
    if args.experiment:
        from .experiment.schema import json_schema as experiment_schema
        print(json.dumps(experiment_schema(), indent=2))
    elif args.rubric:
        from .grading.schema import json_schema as rubric_schema
        print(json.dumps(rubric_schema(), indent=2))
    else:
        print(json.dumps(json_schema(), indent=2))
    return EXIT_OK


def cmd_grade(args: argparse.Namespace) -> int:
    from .grading.grade import Grader
    from .grading.loader import load_rubric
    from .grading.sandbox import SandboxUnavailable, student_uid
    from .output.grading import GradeProgress, print_grades
    try:
        rubric = load_rubric(args.rubric, visible_only=args.visible_only)
    except InvalidInput as exc:
        return _print_invalid(exc)
    if os.geteuid() != 0:
        return _die(args, "grading needs root (it confines student code as another user)",
                    "run it with sudo")
    try:
        student_uid()
    except SandboxUnavailable as exc:
        return _die(args, str(exc))
    subs: List[Tuple[Optional[str], Path]] = [(None, Path(s)) for s in args.submissions]
    if args.audit:
        import tempfile

        from .grading.audit import AuditError, as_handed_in, subjects
        if subs:
            return _die(args, "--audit grades the lab's own solution, starter and mutants: "
                              "give no submissions with it")
        try:
            found = subjects(Path(args.rubric).resolve().parent, rubric.instructor)
        except AuditError as exc:
            return _die(args, str(exc), "put them in instructor/solution, starter and "
                                        "instructor/mutants/<name>")
        scratch = tempfile.TemporaryDirectory(prefix="testbed-audit-")
        subs = as_handed_in(found, Path(scratch.name))
    elif not subs:
        return _die(args, "no submission to grade", "name submissions, or give --audit")
    _take_signals()
    from mininet.log import setLogLevel
    setLogLevel("warning")
    out = Path(args.out)
    with GradeProgress(args.ui.out, len(subs)) as progress:
        grader = Grader(rubric, Path(args.rubric), out, on_check=progress.check)
        grades = []
        for label, sub in subs:
            progress.submission(label or sub.name)
            grades.append(grader.grade(sub, label))
            progress.done()
        grader.finish(grades)
    print_grades(args.ui.out, grades, str(out))
    if args.audit:
        from .grading.audit import judge
        from .output.grading import print_audit
        audit = judge({g["submission"]: g for g in grades})
        print_audit(args.ui.out, audit)
        return EXIT_OK if audit.ok else EXIT_FAILED
    return EXIT_OK


def cmd_lab(args: argparse.Namespace) -> int:
    from .grading.labs import LabError, export
    try:
        path = export(args.name, Path(args.out))
    except LabError as exc:
        return _die(args, str(exc), "the labs are the folders of labs/")
    args.ui.out.print(f"wrote {path} (the student bundle: no instructor/ folder)",
                      highlight=False)
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from rich.table import Table

    from .underlay.capabilities import survey
    console = args.ui.out
    if args.fidelity:
        return _fidelity(args)
    table = Table(title="testbed doctor")
    for col in ("capability", "status", "detail", "fix"):
        table.add_column(col)
    missing = 0
    for cap in survey(args.check_port):
        status = "[green]ok[/]" if cap.ok else ("[red]missing[/]" if cap.essential else "[yellow]no[/]")
        missing += int(cap.essential and not cap.ok)
        table.add_row(cap.name, status, cap.detail, "" if cap.ok else cap.fix)
    console.print(table)
    return EXIT_FAILED if missing else EXIT_OK


def _fidelity(args: argparse.Namespace) -> int:
    """Bring a topology up, measure it against its configuration, print the verdict."""
    from .measure.fidelity import check, sample_pairs
    from .output.tables import print_fidelity
    console = args.ui.out
    try:
        net = load_topology(args.fidelity)
    except InvalidInput as exc:
        return _print_invalid(exc)

    def body(underlay: Any) -> int:
        with args.ui.err.status("measuring RTT, loss, throughput and CPU headroom ..."):
            verdict = check(underlay, pairs=sample_pairs(net, args.pairs))
        if args.json:
            args.ui.emit({"topology": net.name, "dataplane": underlay.dataplane,
                          "links": underlay.link_backend,
                          "forwarding_per_router_ms": verdict.forwarding_per_router_ms,
                          **verdict.as_dict()})
        else:
            print_fidelity(console, net.name, underlay.dataplane, underlay.link_backend, verdict)
        return EXIT_OK if verdict.ok else EXIT_FAILED
    return _with_network(args, net, body, banner=False)


def cmd_import(args: argparse.Namespace) -> int:
    """A topology from a CAIDA AS-relationship file (model/caida.py)."""
    from .model import caida
    from .model.loader import parse_topology, read_input
    from .model.synthetic import to_yaml
    try:
        graph = caida.parse(read_input(args.file, "CAIDA's serial-1 or serial-2 files"), args.file)
        kept = caida.sample(graph, args.sample, args.seed)
        text = to_yaml(caida.topology(graph, kept, args.name, args.delay),
                       f"testbed import caida {Path(args.file).name}"
                       + (f" --sample {args.sample} --seed {args.seed}" if args.sample else ""))
        parse_topology(text, args.out or "<output>")  # what is written is a valid topology
    except InvalidInput as exc:
        return _print_invalid(exc)
    if args.out:
        Path(args.out).write_text(text)
        args.ui.err.print(f"{len(kept)} ASes written to {args.out}", highlight=False)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_clean(args: argparse.Namespace) -> int:
    from .underlay.cleanup import clean
    console = args.ui.out
    for line in clean():
        console.print(line, highlight=False)
    return EXIT_OK


def _policy_routes(args: argparse.Namespace):
    """(network, AS-level routes) of a topology, or an exit code after a printed error."""
    from .control.policy import ASGraph, compute
    try:
        net = load_topology(args.topology)
    except InvalidInput as exc:
        return None, _print_invalid(exc)
    return (net, compute(ASGraph.from_network(net))), EXIT_OK


def cmd_lg(args: argparse.Namespace) -> int:
    from .control.lookingglass import table
    from .control.verify import violations
    from .output.tables import print_looking_glass
    console = args.ui.out
    result, status = _policy_routes(args)
    if result is None:
        return status
    net, routes = result
    unknown = [a for a in args.asn or [] if a not in net.ases]
    if unknown:
        return _die(args, f"no AS {unknown[0]} in {args.topology}",
                    f"ASes: {', '.join(map(str, sorted(net.ases)))}")
    if args.verify:
        found = violations(routes)
        for line in found:
            console.print(line, highlight=False)
        console.print(f"{len(found)} violation(s) in {len(net.ases) * (len(net.ases) - 1)} "
                      "selected AS paths (valley-free, export rules, preference order, "
                      "consistency)", highlight=False)
        return EXIT_FAILED if found else EXIT_OK
    tables = {asn: table(net, routes, asn) for asn in (args.asn or sorted(net.ases))}
    if args.json:
        args.ui.emit({str(asn): rows for asn, rows in tables.items()})
    else:
        for asn, rows in tables.items():
            print_looking_glass(console, asn, rows)
    return EXIT_OK


def cmd_inflation(args: argparse.Namespace) -> int:
    import csv

    from .control.routes import policy_tables
    from .measure.inflation import as_csv_rows, pairs, summary
    from .output.tables import print_inflation
    console = args.ui.out
    result, status = _policy_routes(args)
    if result is None:
        return status
    net, routes = result
    rows = pairs(net, routes, policy_tables(net, routes))
    if args.csv:
        try:
            with open(args.csv, "w", newline="") as f:
                data = as_csv_rows(rows)
                writer = csv.DictWriter(f, fieldnames=list(data[0]) if data else ["src_as"])
                writer.writeheader()
                writer.writerows(data)
        except OSError as exc:
            return _die(args, f"cannot write {args.csv}: {exc.strerror}")
        console.print(f"{len(rows)} AS pairs written to {args.csv}", highlight=False)
    print_inflation(console, net.name, summary(rows))
    return EXIT_OK


def _raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _take_signals() -> None:
    """SIGTERM and SIGHUP end the command through its clean-up, as Ctrl-C does. Ctrl-C's
    own handler is set too: a process started in the background of a script inherits
    SIGINT ignored, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _with_network(args: argparse.Namespace, net: Any, body: "Callable[[Any], int]",
                  banner: bool = True) -> int:
    """Bring net up, run body(underlay) for the exit status, and always tear down (on
    errors, Ctrl-C, SIGTERM and SIGHUP too). Uses args.controller_port, args.datapath and
    args.links where the command has them."""
    from .measure.probes import ProbeError
    from .underlay.controller import ControllerError
    from .output.tables import print_banner
    from .underlay.emulation import Underlay, UnderlayError
    console = args.ui.out
    _take_signals()
    from mininet.log import setLogLevel
    setLogLevel("warning")
    underlay = Underlay(net, controller_port=getattr(args, "controller_port", None),
                        datapath=getattr(args, "datapath", None), link_backend=args.links,
                        dataplane=getattr(args, "dataplane", None))
    try:
        with console.status(f"bringing up {net.name}: {len(net.routers)} routers, "
                            f"{len(net.hosts)} hosts ..."):
            underlay.start()
    except UnderlayError as exc:
        return _die(args, str(exc))
    except ControllerError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        return EXIT_FAILED
    try:
        if banner:
            print_banner(console, net, underlay.dataplane, underlay.datapath or "?",
                         underlay.link_backend, underlay.timings["routes_installed"])
        return body(underlay)
    except (UnderlayError, ProbeError) as exc:
        return _die(args, str(exc))
    except KeyboardInterrupt:
        return 130
    finally:
        with console.status("tearing down ..."):
            underlay.stop()
        console.print(f"torn down in {underlay.timings.get('teardown', 0):.1f} s")


def cmd_draw(args: argparse.Namespace) -> int:
    from .model.drawing import FORMATS, draw
    try:
        net = load_topology(args.topology)
    except InvalidInput as exc:
        return _print_invalid(exc)
    out = Path(args.output or f"{net.name}.svg")
    if out.suffix not in FORMATS:
        return _die(args, f"cannot draw to '{out.name}': the file name must end in "
                          + ", ".join(FORMATS))
    if args.asn is not None and args.asn not in net.ases:
        return _die(args, f"no AS {args.asn} in {net.name}",
                    "ASes: " + ", ".join(map(str, sorted(net.ases)[:20])))
    if not os.access(out.parent if str(out.parent) else ".", os.W_OK):
        return _die(args, f"cannot write '{out}': its folder is missing or not writable")
    try:
        draw(net, out, level=args.level, asn=args.asn)
    except OSError as exc:
        return _die(args, f"cannot write '{out}': {exc.strerror or exc}")
    args.ui.out.print(f"drew {net.name} ({len(net.ases)} ASes) to {out}", highlight=False)
    return EXIT_OK


def cmd_up(args: argparse.Namespace) -> int:
    from .output.tables import print_reachability
    console = args.ui.out
    try:
        net = load_topology(args.topology)
    except InvalidInput as exc:
        return _print_invalid(exc)
    if args.script and not Path(args.script).is_file():
        return _die(args, f"no such script file: {args.script}")
    from .underlay.capture import Capture, parse_cli, points, problems
    targets = [parse_cli(t) for t in args.capture or []]
    for i, message, hint in problems(net, targets):
        return _die(args, f"--capture {args.capture[i]}: {message}", hint)
    folder = Path(args.capture_dir)
    if targets and not os.access(folder if folder.exists() else folder.parent or Path("."),
                                 os.W_OK):
        return _die(args, f"cannot write captures to '{folder}': not writable")

    def body(underlay: Any) -> int:
        if not targets:
            return run(underlay)
        with Capture(underlay, folder, points(net, targets)) as capture:
            console.print(f"capturing {len(capture.points)} links into {folder}/ "
                          f"(open a .pcap with wireshark or tcpdump -r)", highlight=False)
            return run(underlay)

    def run(underlay: Any) -> int:
        if args.pingall:
            from .underlay.reachability import host_matrix
            with console.status("probing all host pairs ..."):
                matrix = host_matrix(underlay)
            return EXIT_OK if print_reachability(console, underlay.net, matrix) else EXIT_FAILED
        if args.script:
            _cli(args, underlay, script=args.script)
        elif args.hold:
            console.print("holding the network up; stop with Ctrl-C or SIGTERM")
            signal.pause()
        else:
            _cli(args, underlay)
        return EXIT_OK
    return _with_network(args, net, body)


def cmd_probe(args: argparse.Namespace) -> int:
    from .output import tables
    ui = args.ui
    if args.matrix == bool(args.src):
        return _die(args, "give either SRC and DST hosts, or --matrix",
                    "e.g. testbed probe topologies/line-3as.yaml as100.h1 as300.h1 --trace")
    if args.src and not args.dst:
        return _die(args, "give the destination host too (SRC DST)")
    try:
        net = load_topology(args.topology)
    except InvalidInput as exc:
        return _print_invalid(exc)
    for name in (args.src, args.dst):
        if name and name not in net.hosts:
            return _die(args, f"no host '{name}' in {net.name}",
                        f"hosts: {', '.join(sorted(net.hosts)[:8])}"
                        + (" ..." if len(net.hosts) > 8 else ""))

    def body(underlay: Any) -> int:
        if args.matrix:
            from .measure.matrix import rtt_matrix, write_csv
            with ui.err.status("probing all host pairs ..."):
                matrix = rtt_matrix(underlay, kind=args.kind, count=args.count or 1,
                                    budget=args.rate or 400.0)
            if args.csv:
                with open(args.csv, "w", newline="") as out:
                    write_csv(net, matrix, out)
                ui.out.print(f"{len(matrix)} host pairs written to {args.csv}")
            if args.json:
                ui.emit([{"src": s, "dst": d, "sent": r.sent, "received": r.received,
                          "rtt_ms": r.answered} for (s, d), r in sorted(matrix.items())])
            else:
                tables.print_rtt_matrix(ui.out, net, matrix)
            return EXIT_OK if all(r.received for r in matrix.values()) else EXIT_FAILED
        prober = underlay.prober(args.src)
        dst_ip = net.hosts[args.dst].ip
        if args.trace:
            from .measure.pathmap import compare
            trace = prober.trace(dst_ip, kind=args.kind, port=args.port)
            comparison = compare(net, underlay.routing_state().tables(), args.src, args.dst,
                                 trace.hops, trace.reached)
            if args.json:
                ui.emit({"src": args.src, "dst": args.dst, "agrees": comparison.agrees,
                         "hops": [h.__dict__ for h in trace.hops]})
            else:
                tables.print_path(ui.out, comparison)
            return EXIT_OK if comparison.agrees else EXIT_FAILED
        stream = prober.start("ping", dst=[dst_ip], kind=args.kind, count=args.count or 10,
                              rate=args.rate or 10.0, size=args.size, port=args.port,
                              timeout=args.timeout)
        rtts = []
        for msg in stream:
            if msg["type"] == "probe":
                rtts.append(msg["rtt_ms"])
                if args.json:
                    ui.emit(msg)
                else:
                    tables.print_probe(ui.out, msg)
        from .measure.probes import PingResult
        result = PingResult(dst_ip, rtts)
        if not args.json:
            tables.print_ping_summary(ui.out, args.src, args.dst, args.kind, result)
        return EXIT_OK if result.received else EXIT_FAILED
    return _with_network(args, net, body)


def _cli(args: argparse.Namespace, underlay: "object", script: Optional[str] = None) -> None:
    from mininet.log import setLogLevel

    from .output.shell import TestbedCLI
    setLogLevel("output")
    TestbedCLI(underlay, args.ui, script=script)
    setLogLevel("warning")


def cmd_run(args: argparse.Namespace) -> int:
    from .experiment.loader import load_experiment
    from .experiment.runner import Runner
    from .underlay.emulation import Underlay, UnderlayError
    from .output.run import RichRunProgress, print_run_summary
    console = args.ui.out
    try:
        plan = load_experiment(args.experiment)
    except InvalidInput as exc:
        return _print_invalid(exc)
    from .experiment.overlays import missing_programs
    missing = missing_programs(plan.experiment)
    if missing:
        return _die(args, "; ".join(missing))
    def make_underlay(net: Any) -> Any:
        return Underlay(net, dataplane=args.dataplane, link_backend=args.links)
    try:
        make_underlay(plan.net).preflight()
    except UnderlayError as exc:
        return _die(args, str(exc))
    _take_signals()
    from mininet.log import setLogLevel
    setLogLevel("warning")
    runner = Runner(plan, Path(args.out), trials=args.trials, seed=args.seed,
                    make_underlay=make_underlay)
    run = runner.prepare()
    console.print(f"run directory: {run.path}", highlight=False)
    with RichRunProgress(console, plan.experiment.duration, runner.trials) as progress:
        runner.progress = progress
        outcome = runner.execute()
    print_run_summary(console, outcome)
    if outcome.status == "interrupted":
        return 130
    failed = outcome.status != "complete" or \
        not all(e["passed"] for e in outcome.summary.get("expectations", []))
    return EXIT_FAILED if failed else EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from .experiment.results import RunError, finish_run, load_run
    console = args.ui.out
    try:
        load_run(Path(args.run))
        finish_run(Path(args.run))
    except RunError as exc:
        return _die(args, str(exc), "a run directory is results/<experiment>/<timestamp>/")
    console.print(f"wrote {Path(args.run) / 'report.html'} and report.md", highlight=False)
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from .experiment.results import RunError, compute_metrics, load_run
    from .output.run import print_comparison
    try:
        runs = [load_run(Path(p)) for p in (args.run_a, args.run_b)]
    except RunError as exc:
        return _die(args, str(exc), "a run directory is results/<experiment>/<timestamp>/")
    print_comparison(args.ui.out, runs, [compute_metrics(r) for r in runs])
    return EXIT_OK


def _network_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--controller-port", type=int, help="default: a free port")
    p.add_argument("--datapath", choices=("user", "kernel"), help="default: detected")
    p.add_argument("--links", choices=("auto", "netem", "userspace"),
                   help="link emulation back end (default: the topology's emulation.links, "
                        "auto = netem where the kernel has it, else userspace)")
    p.add_argument("--dataplane", choices=("auto", "openflow", "linux"),
                   help="what forwards (default: the topology's emulation.dataplane, auto = "
                        "OpenFlow where the OVS kernel datapath is there, else Linux routers)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="testbed", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"testbed {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check topology, experiment and rubric files; all "
                                        "problems with file:line")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("draw", help="draw a topology: ASes by tier, providers above "
                                    "customers, peers side by side (svg, png, pdf, dot)")
    p.add_argument("topology", metavar="TOPO.yaml")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="FILE.svg, .png, .pdf or .dot (Graphviz text); default <name>.svg")
    p.add_argument("--level", choices=("router", "as"), default="router",
                   help="router: each AS with its routers, hosts and links (default); "
                        "as: one box per AS")
    p.add_argument("--as", dest="asn", type=int, metavar="ASN",
                   help="one AS alone: its routers, hosts, internal links, and neighbours")
    p.set_defaults(func=cmd_draw)

    p = sub.add_parser("schema", help="print the topology JSON Schema (for editors)")
    p.add_argument("--experiment", action="store_true", help="the experiment file's schema")
    p.add_argument("--rubric", action="store_true", help="the rubric file's schema")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("grade", help="grade submissions (directories or tarballs) against a "
                                     "rubric: feedback, grade.json, junit.xml, scores.csv")
    p.add_argument("rubric", metavar="RUBRIC.yaml")
    p.add_argument("submissions", nargs="*", metavar="SUBMISSION")
    p.add_argument("--out", default="grades", help="where the grades go (default grades/)")
    p.add_argument("--audit", action="store_true",
                   help="grade the lab's solution, starter and instructor/mutants/* instead, "
                        "print check x submission, exit 1 if the rubric gives free points or "
                        "misses a bug")
    p.add_argument("--visible-only", action="store_true",
                   help="skip hidden checks (a student grading their own work)")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("lab", help="lab exercises: export NAME writes the student bundle")
    p.add_argument("action", choices=("export",))
    p.add_argument("name", metavar="NAME", help="a folder of labs/, e.g. policy-routing")
    p.add_argument("--out", default=".", help="where the tarball goes (default: here)")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("up", help="bring a topology up and open the Mininet CLI")
    p.add_argument("topology", metavar="TOPO.yaml")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--pingall", action="store_true",
                      help="no CLI: print the all-pairs reachability table, tear down "
                           "(exit 1 if any pair is unreachable)")
    mode.add_argument("--script", metavar="FILE", help="no CLI: run Mininet CLI commands from FILE")
    mode.add_argument("--hold", action="store_true", help="no CLI: stay up until Ctrl-C/SIGTERM")
    p.add_argument("--capture", action="append", metavar="WHAT",
                   help="pcap files of links while the network is up: all, a host (its "
                        "access link), a router (its links) or a link as A,B; repeatable")
    p.add_argument("--capture-dir", default="captures", metavar="DIR",
                   help="where the .pcap files go (default captures/)")
    _network_options(p)
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("probe", help="bring a topology up and probe: ping or traceroute "
                                     "one host pair, or the all-pairs RTT matrix")
    p.add_argument("topology", metavar="TOPO.yaml")
    p.add_argument("src", nargs="?", metavar="SRC", help="probing host, e.g. as100.h1")
    p.add_argument("dst", nargs="?", metavar="DST", help="destination host")
    p.add_argument("--kind", choices=("icmp", "udp", "tcp"), default="icmp",
                   help="ICMP echo, UDP to a closed port, or TCP SYN (default icmp)")
    p.add_argument("--trace", action="store_true",
                   help="traceroute, shown against the path the controller's tables expect "
                        "(exit 1 if they differ)")
    p.add_argument("--matrix", action="store_true",
                   help="all host pairs: RTT and reachability (exit 1 if a pair is unreachable)")
    p.add_argument("--count", type=int, help="probes per pair (default 10; matrix 1)")
    p.add_argument("--rate", type=float,
                   help="probes per second (default 10; matrix: 400 shared by all hosts)")
    p.add_argument("--size", type=int, help="IP packet bytes (default 84, as ping)")
    p.add_argument("--port", type=int, help="UDP/TCP destination port")
    p.add_argument("--timeout", type=float, default=1.0, help="seconds to wait for each reply")
    p.add_argument("--csv", metavar="FILE", help="matrix: also write one row per host pair")
    p.add_argument("--json", action="store_true", help="JSON lines instead of tables")
    _network_options(p)
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("run", help="run an experiment file: trials, results, plots, report")
    p.add_argument("experiment", metavar="EXPERIMENT.yaml")
    p.add_argument("--trials", type=int, help="override the file's trials")
    p.add_argument("--seed", type=int, help="override the file's seed")
    p.add_argument("--out", default="results", help="results root (default: results/)")
    p.add_argument("--links", choices=("auto", "netem", "userspace"),
                   help="link emulation back end (default: the topology's)")
    p.add_argument("--dataplane", choices=("auto", "openflow", "linux"),
                   help="what forwards (default: the topology's emulation.dataplane)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="remake a run's metrics, plots and reports from its files")
    p.add_argument("run", metavar="RUN_DIR")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("compare", help="two runs' metrics side by side")
    p.add_argument("run_a", metavar="RUN_A")
    p.add_argument("run_b", metavar="RUN_B")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("lg", help="looking glass: each AS's routes, and why they were chosen")
    p.add_argument("topology", metavar="TOPO.yaml")
    p.add_argument("--as", dest="asn", type=int, action="append", metavar="ASN",
                   help="only this AS (repeatable); default: all")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--verify", action="store_true",
                   help="check every selected path against the rules; exit 1 on a violation")
    p.set_defaults(func=cmd_lg)

    p = sub.add_parser("inflation", help="policy path against shortest path for all AS pairs")
    p.add_argument("topology", metavar="TOPO.yaml")
    p.add_argument("--csv", metavar="FILE", help="also write one row per AS pair")
    p.set_defaults(func=cmd_inflation)

    p = sub.add_parser("doctor", help="list capabilities and how to fix the gaps")
    p.add_argument("--controller-port", dest="check_port", type=int, default=6653,
                   help="the port whose availability to check (default 6653)")
    p.add_argument("--fidelity", nargs="?", const="topologies/line-3as.yaml", metavar="TOPO",
                   help="bring TOPO up (default line-3as) and check that delay, jitter, "
                        "loss and rate are what it configures; exit 1 if degraded")
    p.add_argument("--links", choices=("auto", "netem", "userspace"),
                   help="link emulation back end for --fidelity")
    p.add_argument("--dataplane", choices=("auto", "openflow", "linux"),
                   help="data plane for --fidelity")
    p.add_argument("--pairs", type=int, default=3, help="--fidelity: host pairs to sample")
    p.add_argument("--json", action="store_true", help="--fidelity: the verdict as JSON only")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("import", help="make a topology from another format (caida: CAIDA "
                                      "AS-relationship files)")
    p.add_argument("format", choices=("caida",))
    p.add_argument("file", metavar="FILE")
    p.add_argument("--sample", type=int, metavar="N",
                   help="keep N ASes (drawn with --seed) and every provider above them")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--name", default="caida", help="the topology's name (default caida)")
    p.add_argument("--delay", type=float, default=5.0, help="ms per link (default 5)")
    p.add_argument("-o", "--out", metavar="TOPO.yaml", help="write here (default: stdout)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("clean", help="remove what killed runs left (namespaces, veths, "
                                     "bridges, processes)")
    p.set_defaults(func=cmd_clean)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    from .output import Output
    args = build_parser().parse_args(argv)
    args.ui = Output.make(json_mode=getattr(args, "json", False))
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
