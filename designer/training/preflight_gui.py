"""The window's pre-flight checks: Training ▸ Check design, and the same checks on Train.

``engine.preflight.check_design`` compares the design with the data set of the project's
training settings (no torch, milliseconds). A finding that refuses a run is shown in one message
with a button per fix; a click applies it as one undo step: a graph fix (the last Linear's
out_features) through the document, a data-set switch or a resize through the settings. Train
then stays stopped, so the person sees the change before pressing Train again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.preflight import Finding, PreflightFix
    from engine.training.settings import TrainingSettings


def findings(controller: Any, settings: TrainingSettings) -> list[Finding]:
    """The quick checks of the window's design under ``settings``."""
    from engine.preflight import check_design
    from presets import PRESETS

    document = controller.document
    name = document.project.metadata.get("preset")
    preset = PRESETS.get(name) if isinstance(name, str) and name in PRESETS else None
    return check_design(document.graph, settings, preset=preset, result=document.result)


def refuses(controller: Any, settings: TrainingSettings, skip: tuple[str, ...] = ()) -> bool:
    """True when a check refuses the run (the message and its fixes shown; a chosen fix
    applied). ``skip``: checks another step handles (the Input block on Train)."""
    errors = [f for f in findings(controller, settings) if f.severity == "error"]
    errors = [f for f in errors if f.check not in skip]
    if not errors:
        return False
    finding = errors[0]
    fix = controller.ask_preflight(finding)
    if fix is None:
        controller._status(f"Not started: {finding.message}", 20_000)
        return True
    apply_fix(controller, settings, fix)
    controller._status(f"Fixed: {fix.label}. Press Train to start", 20_000)
    return True


def apply_fix(controller: Any, settings: TrainingSettings, fix: PreflightFix) -> None:
    """Apply ``fix`` as one undo step: to the design, or to the project's training settings."""
    if fix.graph_fix is not None:
        controller.document.apply_fix(fix.graph_fix)
    if fix.data or fix.settings:
        data = {k: tuple(v) if isinstance(v, list) else v for k, v in fix.data.items()}
        changed = replace(settings, data=replace(settings.data, **data), **fix.settings)
        controller.store_settings(changed)


def check(controller: Any, offer: bool = True) -> bool:
    """Training ▸ Check design: True when nothing refuses a run (said in the status bar). A
    warning with a fix (a ReLU before the loss) is offered in a message too, unless ``offer``
    is False (Deep check shows it with its own findings)."""
    from engine.training.settings import SettingsError

    if not controller.document.result.ok:
        controller._show_problems()
        controller._status("Check: the design has errors. Fix them in the Problems list first")
        return False
    try:
        settings = controller.settings()
    except SettingsError as error:
        controller._status(f"Check: the training settings are invalid: {error}")
        return False
    if refuses(controller, settings):
        return False
    warnings = [f for f in findings(controller, settings) if f.severity == "warning"]
    extra = f" (warning: {warnings[0].message})" if warnings else ""
    controller._status(f"Check passed: ready to train on {settings.data.dataset}{extra}", 20_000)
    shown = _shown(warnings) if offer else None
    if shown is not None and shown.fixes and (fix := controller.ask_preflight(shown)) is not None:
        apply_fix(controller, settings, fix)
        controller._status(f"Check passed; applied: {fix.label}", 20_000)
    return True


def ask(window: Any, finding: Finding) -> PreflightFix | None:
    """One message with a button per fix; the chosen fix, or None (Cancel)."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(window)
    box.setObjectName("preflight")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(
        "The design cannot train on this data set"
        if finding.severity == "error"
        else "The design can train, but"
    )
    box.setText(f"{finding.message}.")
    buttons = {
        box.addButton(fix.label, QMessageBox.ButtonRole.ActionRole): fix for fix in finding.fixes
    }
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return buttons.get(box.clickedButton())


def deep_check(controller: Any) -> bool:
    """Training ▸ Deep check: the quick checks, then a few seconds of the design on a small
    batch (on a worker thread, with a Cancel: ``deep_check_worker``). Its errors and warnings
    are shown in one message with a button per fix (else the range test's learning rate);
    True when nothing refuses a run (False when cancelled)."""
    if not check(controller, offer=False):
        return False
    from designer.training.deep_check_worker import run_deep_checks

    settings = controller.settings()
    controller._status("Deep check: running the design on 16 images…", 0)
    try:
        found = run_deep_checks(controller.window, controller.document.graph.to_data(), settings)
    except RuntimeError as error:
        controller._status(f"Deep check could not run: {error}", 30_000)
        return False
    if found is None:
        controller._status("Deep check cancelled: nothing was changed", 20_000)
        return False
    found = [*(f for f in findings(controller, settings) if f.severity == "warning"), *found]
    failed = any(f.severity == "error" for f in found)
    summary = "; ".join(f.message for f in found if f.severity == "info" and not f.fixes)
    controller._status(
        ("Deep check refused the run" if failed else f"Deep check passed: {summary}"), 30_000
    )
    shown = _shown(found)
    if shown is not None and (fix := controller.ask_preflight(shown)) is not None:
        apply_fix(controller, settings, fix)
        controller._status(f"Applied: {fix.label}", 20_000)
    return not failed


def _shown(found: list[Finding]) -> Finding | None:
    """What the deep check's message says: every error and warning, with the fixes of all of
    them (an error such as "the loss does not fall" has none of its own, while the warning
    naming its cause, a ReLU before the loss, has one); else the first finding with a fix
    (the range test's learning rate)."""
    from engine.preflight import Finding

    problems = [f for f in found if f.severity == "error"]
    problems += [f for f in found if f.severity == "warning"]
    if not problems:
        return next((f for f in found if f.fixes), None)
    fixes = {fix.label: fix for f in problems for fix in f.fixes}
    message = ".\n\n".join(f.message.rstrip(".") for f in problems)
    return Finding(problems[0].severity, problems[0].check, message, tuple(fixes.values()))
