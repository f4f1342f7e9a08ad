"""SCoPe's command-line spellings, so that SCoPe's documented command lines run unchanged.

:class:`ScopeArgumentParser` accepts SCoPe's underscore spelling of every hyphenated long flag
(``--scale_features`` for ``--scale-features``) and any extra spelling registered with
:meth:`~ScopeArgumentParser.add_scope_spelling` (``--trainingSet``). The spellings are rewritten
before parsing instead of being registered as option strings: argparse's prefix matching of
the hyphenated flags (``--scale`` for ``--scale-features``) stays unambiguous, and ``--help``
lists each flag once, with a closing note naming the accepted spellings.

:func:`add_run_inference_scope_flags` and :func:`add_create_script_scope_flags` add the flags of
SCoPe's ``run-inference`` and ``create-inference-script`` that this project lacked; those with no
effect of their own say so in ``--help`` (:data:`COMPAT`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

COMPAT = "[SCoPe compatibility]"
COMPAT_NOTE = (
    f"Flags marked {COMPAT} are accepted only so that SCoPe's command lines run unchanged."
)


class ScopeArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that also understands SCoPe's spellings of its long flags.

    Only flags added with this parser's own ``add_argument`` are known to it (not those of
    argument groups).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._long_flags: set[str] = set()  # before super(): it registers --help
        self._spellings: dict[str, str] = {}
        self._has_compat_flags = False
        super().__init__(*args, **kwargs)
        self._own_epilog = self.epilog

    def add_argument(self, *names: str, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*names, **kwargs)
        self._long_flags.update(n for n in action.option_strings if n.startswith("--"))
        return action

    def add_scope_spelling(self, scope_flag: str, flag: str) -> None:
        """Accept ``scope_flag`` (e.g. ``--trainingSet``) as SCoPe's spelling of ``flag``."""
        if flag not in self._long_flags:
            raise ValueError(f"{self.prog}: no flag {flag} to give the spelling {scope_flag}")
        if scope_flag in self._long_flags:
            raise ValueError(f"{self.prog}: {scope_flag} is already a flag of its own")
        self._spellings[scope_flag] = flag

    def add_compat_flag(self, *names: str, help: str, **kwargs: Any) -> argparse.Action:
        """A flag accepted for SCoPe compatibility (``store_true`` unless told otherwise)."""
        kwargs.setdefault("action", "store_true")
        self._has_compat_flags = True
        return self.add_argument(*names, help=f"{COMPAT} {help}", **kwargs)

    def scope_spelling_of(self, token: str) -> str:
        """``token`` with a SCoPe spelling of a known flag replaced by the flag (``=value`` kept)."""
        if not token.startswith("--") or token == "--":
            return token
        flag, sep, value = token.partition("=")
        if flag in self._long_flags:
            return token
        ours = self._spellings.get(flag)
        hyphenated = flag[:2] + flag[2:].replace("_", "-")
        if ours is None and hyphenated in self._long_flags:
            ours = hyphenated
        return token if ours is None else ours + sep + value

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        args = list(sys.argv[1:] if args is None else args)
        end = args.index("--") if "--" in args else len(args)
        rewritten = [self.scope_spelling_of(a) for a in args[:end]] + args[end:]
        return super().parse_known_args(rewritten, namespace)

    def format_help(self) -> str:
        self.epilog = "\n".join(p for p in (self._own_epilog, self._spelling_note()) if p)
        return super().format_help()

    def _spelling_note(self) -> str:
        hyphenated = sorted(f for f in self._long_flags if "-" in f[2:])
        parts = []
        if hyphenated:
            example = hyphenated[0]
            parts.append(
                "SCoPe's underscore spellings are accepted for every hyphenated flag (e.g. "
                f"{example[:2] + example[2:].replace('-', '_')} for {example})."
            )
        if self._spellings:
            pairs = ", ".join(f"{s} for {f}" for s, f in sorted(self._spellings.items()))
            parts.append(f"Also accepted: {pairs}.")
        if self._has_compat_flags:
            parts.append(COMPAT_NOTE)
        return " ".join(parts)


def add_run_inference_scope_flags(parser: ScopeArgumentParser) -> None:
    """SCoPe's ``run-inference`` flags this project lacked (needs ``--algorithm`` and
    ``--training-set`` to be registered first)."""
    parser.add_argument(
        "--period-suffix",
        help="period suffix of the feature columns for SCoPe models (default: the config's "
        "features.info.period_suffix); this project's models carry their own",
    )
    parser.add_argument(
        "--feature-file-prefix",
        default="gen_features",
        help="one quadrant from a --feature-directory other than 'features': read "
        "<dir>/field_<f>/<prefix>_field_<f>_ccd_<c>_quad_<q>.parquet (default gen_features)",
    )
    parser.add_argument(
        "--no-write-metadata",
        dest="write_metadata",
        action="store_false",
        help="do not write meta.json beside the predictions",
    )
    parser.add_compat_flag(
        "--xgb-model",
        dest="algorithm",
        action="store_const",
        const="xgb",
        default=argparse.SUPPRESS,
        help="SCoPe's spelling of --algorithm xgb",
    )
    parser.add_compat_flag(
        "--doCPU", help="no effect: inference runs on the CPU unless TensorFlow finds a GPU"
    )
    parser.add_scope_spelling("--trainingSet", "--training-set")


def add_create_script_scope_flags(parser: ScopeArgumentParser) -> None:
    """SCoPe's ``create-inference-script`` flags this project lacked."""
    parser.add_argument(
        "--period-suffix",
        help="write --period-suffix into the script's run-inference line (SCoPe models)",
    )
