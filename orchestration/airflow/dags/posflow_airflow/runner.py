"""Runs the posflow binary for a task: its stderr (log lines and its one-line errors) goes to the
task log line by line as it comes, its stdout is kept (or written to a file), and the process
group is ended if the task is stopped or times out."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Sequence

from posflow_airflow.settings import PosflowSettings

# posflow's exit codes (README, "Commands"; `posflow --help`).
EXIT_OK = 0
EXIT_FAILURE = 1  # failure at run time (e.g. the database cannot be reached)
EXIT_USAGE = 2  # bad usage or configuration: retrying cannot help
EXIT_DIFFERENCE = 3  # `posflow check` found a difference
EXIT_BUSY = 4  # another ETL or maintain holds the database's lock
EXIT_NOTHING_TO_DO = 99  # `etl --once --skip-exit-code 99`: staging was empty

MEANING = {
    EXIT_OK: "success",
    EXIT_FAILURE: "failure at run time",
    EXIT_USAGE: "bad usage or configuration",
    EXIT_DIFFERENCE: "check found a difference",
    EXIT_BUSY: "busy: another ETL or maintain holds the database's lock",
    EXIT_NOTHING_TO_DO: "nothing to do",
}

# How long a stopped posflow gets to finish its batch in flight after SIGTERM.
_STOP_GRACE_SECONDS = 30


@dataclasses.dataclass
class PosflowResult:
    exit_code: int
    stdout: str  # empty when stdout went to a file
    errors: list[str]  # posflow's "posflow <command>: error: ..." lines

    @property
    def meaning(self) -> str:
        if self.exit_code < 0:
            return f"killed by signal {-self.exit_code}"
        return MEANING.get(self.exit_code, "unknown exit code")

    def describe(self, command: str) -> str:
        """One line for an exception: the exit code, its meaning and posflow's own error."""
        text = f"posflow {command} exited {self.exit_code} ({self.meaning})"
        if self.errors:
            text += ": " + self.errors[-1]
        return text


def run_posflow(
    settings: PosflowSettings,
    arguments: Sequence[str],
    log: logging.Logger,
    stdout_path: str | None = None,
    log_stdout: bool = True,
) -> PosflowResult:
    """Runs `posflow ARGUMENTS` to completion.

    stdout_path: when given, stdout is written to this file, atomically (a temporary file in the
    same folder renamed over it on exit code 0, removed otherwise).
    log_stdout: copy stdout into the task log too (off for bulky output such as a report).
    """
    command = [settings.bin, *arguments]
    log.info("running: posflow %s", " ".join(arguments))
    stdout_file = None
    temporary_path = None
    if stdout_path is not None:
        folder = os.path.dirname(os.path.abspath(stdout_path))
        os.makedirs(folder, exist_ok=True)
        descriptor, temporary_path = tempfile.mkstemp(
            dir=folder, prefix="." + os.path.basename(stdout_path) + ".", suffix=".tmp"
        )
        stdout_file = os.fdopen(descriptor, "wb")
    errors: list[str] = []
    exit_code: int | None = None
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=stdout_file if stdout_file is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=settings.child_environment(),
            start_new_session=True,  # its own process group, ended as a whole
        )
        stderr_reader = threading.Thread(
            target=_log_stderr, args=(process, log, errors), name="posflow-stderr", daemon=True
        )
        stderr_reader.start()
        try:
            stdout = process.stdout.read().decode("utf-8", "replace") if process.stdout else ""
            exit_code = process.wait()
        finally:
            # A timeout (AirflowTaskTimeout) or a kill lands here while posflow still runs.
            if process.poll() is None:
                stop_process_group(process, log)
            stderr_reader.join(timeout=5)
    finally:
        if stdout_file is not None:
            stdout_file.close()
        if temporary_path is not None:
            if exit_code == EXIT_OK:
                os.replace(temporary_path, stdout_path)
            else:
                os.unlink(temporary_path)
    if log_stdout:
        for line in stdout.splitlines():
            log.info("posflow stdout: %s", line)
    return PosflowResult(exit_code=exit_code, stdout=stdout, errors=errors)


def _log_stderr(process: subprocess.Popen, log: logging.Logger, errors: list[str]) -> None:
    assert process.stderr is not None
    for raw in process.stderr:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if ": error: " in line:
            errors.append(line)
            log.error("%s", line)
        else:
            log.info("posflow: %s", line)


def stop_process_group(process: subprocess.Popen, log: logging.Logger) -> None:
    """SIGTERM (posflow finishes or abandons its batch in flight), then SIGKILL after a grace."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        log.warning("sent SIGTERM to posflow (pid %d)", process.pid)
        process.wait(timeout=_STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        log.warning("posflow (pid %d) still running: SIGKILL", process.pid)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass
