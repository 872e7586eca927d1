"""The ``jaxloss`` command: ``list``, ``check``, ``bench`` and ``demo``.

Exit codes: 0 success; 1 a check or benchmark target failed; 2 bad command-line usage; 3 a required
optional dependency (torch, matplotlib) is missing.
"""

from __future__ import annotations

import argparse
import sys

from jaxloss.cli.demo import LOSSES as DEMO_LOSSES
from jaxloss.cli.progress import Progress

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_MISSING = 0, 1, 2, 3


def _cmd_list(args: argparse.Namespace) -> int:
    from jaxloss._src.catalogue import entries

    specs = entries(namespace=args.namespace, family=args.family)
    if args.grep:
        specs = [
            s
            for s in specs
            if args.grep.lower() in s.qualname.lower() or args.grep.lower() in s.reference.lower()
        ]
    if not specs:
        print("no loss matches", file=sys.stderr)
        return EXIT_FAILED
    rows = [(s.qualname, s.family, s.torch or "", s.optax or "", s.reference) for s in specs]
    head = ("name", "family", "torch", "optax", "reference")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(4)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
    print(fmt.format(*head))
    for r in rows:
        print(fmt.format(*r))
    print(f"{len(rows)} losses")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    from jaxloss._src.catalogue import entries
    from jaxloss.cli.check import run_checks

    specs = entries(namespace=args.namespace, family=args.family)
    if args.grep:
        specs = [s for s in specs if args.grep.lower() in s.qualname.lower()]
    if not specs:
        print("no loss matches", file=sys.stderr)
        return EXIT_FAILED
    failed = run_checks(specs, progress=Progress("check", args.progress))
    return EXIT_FAILED if failed else EXIT_OK


def _cmd_bench(args: argparse.Namespace) -> int:
    from jaxloss.cli import bench as _bench

    return _bench.main(args)


def _cmd_demo(args: argparse.Namespace) -> int:
    from jaxloss.cli import demo as _demo

    names = _demo.LOSSES if args.loss == "all" else [args.loss]
    curves = {}
    for name in names:
        curve, accuracy = _demo.train(
            name,
            steps=args.steps,
            learning_rate=args.lr,
            seed=args.seed,
            progress=Progress(f"demo {name}", args.progress),
        )
        curves[name] = curve
        print(f"{name:<16} final loss {curve[-1]:.4f}  train accuracy {accuracy:.3f}")
    if args.out:
        try:
            _demo.plot(curves, args.out, title=f"spirals, {args.steps} Adam steps")
        except ImportError:
            print("writing a PNG needs matplotlib: pip install 'jaxloss[demo]'", file=sys.stderr)
            return EXIT_MISSING
        print(f"wrote {args.out}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxloss", description="The jaxloss loss catalogue: list, check, benchmark, demo."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add_filters(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--namespace", choices=("losses", "optax_losses"), help="only this namespace"
        )
        p.add_argument("--family", help="only this family (regression, classification, ...)")
        p.add_argument("--grep", help="only names containing this text")

    def add_progress(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="show a progress bar (default: when stderr is a terminal)",
        )

    p = sub.add_parser(
        "list", help="the catalogue: name, family, torch/optax equivalents, reference"
    )
    add_filters(p)
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser(
        "check", help="run every loss under jit/grad/vmap and against float64 and torch"
    )
    add_filters(p)
    add_progress(p)
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("bench", help="time jaxloss against torch and optax (forward + backward)")
    p.add_argument(
        "--grep",
        help="only cases whose name contains this text, or is exactly it (several: comma-separated)",
    )
    p.add_argument("--size", choices=("small", "large", "both"), default="both")
    p.add_argument("--repeats", type=int, default=10, help="timed repetitions (median reported)")
    p.add_argument("--out", default="bench-results", help="folder for JSON, markdown and PNG")
    add_progress(p)
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("demo", help="train a small MLP on built-in spirals data and plot the loss")
    p.add_argument(
        "--loss",
        default="cross_entropy",
        help="one of: all, " + ", ".join(DEMO_LOSSES),
    )
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--out", default="jaxloss-demo.png", help="PNG path for the loss curve ('' for none)"
    )
    add_progress(p)
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from jaxloss.cli.demo import LOSSES

        if args.loss != "all" and args.loss not in LOSSES:
            parser.error(
                f"demo: --loss must be 'all' or one of {', '.join(LOSSES)}; got {args.loss!r}"
            )
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
