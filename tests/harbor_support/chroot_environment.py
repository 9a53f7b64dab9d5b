"""Harbor environment that runs each trial in a private chroot on the host.

It exists so Harbor trials can run on machines without Docker. The task's
``environment/Dockerfile`` (and ``[environment].docker_image``) is ignored:
the chroot reuses the host's ``/usr``, ``/etc``, the project venv and the
pyenv install through read-only bind mounts, so a task gets whatever the host
has installed. Each trial gets private ``/app``, ``/logs``, ``/tests``,
``/solution``, ``/tmp`` and ``/root`` folders under ``<trial_dir>/chroot/``.

Every ``exec`` starts ``unshare --mount`` and sets up the binds again in that
new mount namespace, so they never appear in the host's mount table and no
unmount is needed.
Processes are not put in a new PID or network namespace. As in a container,
background processes such as a tmux server outlive the ``exec`` that started
them, and ``stop`` kills any whose root is still the trial's chroot.

Requires root, ``unshare`` and ``mount`` from util-linux, and coreutils
``chroot`` and ``env``. Use it with
``harbor run --env tests.harbor_support.chroot_environment:ChrootEnvironment``
and the repository on ``PYTHONPATH``.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

from harbor.environments.base import BaseEnvironment, ExecResult
from harbor.environments.capabilities import EnvironmentCapabilities

# Host paths bound read-only at the same place inside every chroot. A path
# that is a symlink on the host (``/bin -> usr/bin`` on merged-/usr systems)
# is copied as a symlink instead of bound.
READ_ONLY_BINDS: tuple[str, ...] = tuple(
    dict.fromkeys(
        (
            "/usr",
            "/lib",
            "/lib64",
            "/bin",
            "/sbin",
            "/etc",
            "/root/.pyenv",
            # The Python environment running Harbor (the test venv) and its base interpreter, so
            # the verifier's console scripts work inside the chroot.
            sys.base_prefix,
            sys.prefix,
        )
    )
)
PRIVATE_DIRS: tuple[str, ...] = (
    "app",
    "logs/agent",
    "logs/verifier",
    "logs/artifacts",
    "tests",
    "solution",
    "tmp",
    "var/tmp",
    "root",
    "run",
    "dev",
    "proc",
)
WORLD_WRITABLE_DIRS: tuple[str, ...] = ("app", "logs/agent", "logs/verifier", "logs/artifacts")
DEFAULT_PATH = f"{sys.prefix}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ChrootEnvironment(BaseEnvironment):
    """Per-trial chroot with host binds, for running Harbor without Docker."""

    def __init__(self, *args: Any, ro_binds: list[str] | None = None, **kwargs: Any) -> None:
        """Resolve the chroot path and the tools, creating nothing on disk until ``start``.

        Args:
            *args: Positional arguments of ``BaseEnvironment``.
            ro_binds: Extra host paths to bind read-only at the same path,
                e.g. ``--ek 'ro_binds=["/path/to/repo"]'`` on the CLI.
            **kwargs: Keyword arguments of ``BaseEnvironment``.
        """
        # Default binds missing on this host are skipped. A missing extra one fails in ``start``.
        present_defaults = [path for path in READ_ONLY_BINDS if os.path.lexists(path)]
        self._ro_binds = [*present_defaults, *(ro_binds or [])]
        super().__init__(*args, **kwargs)
        self.root_dir = self.trial_paths.trial_dir.resolve() / "chroot" / self.session_id
        self._mount = _require_tool("mount")
        self._unshare = _require_tool("unshare")
        self._chroot = _require_tool("chroot")

    @staticmethod
    def type() -> str:
        """Return the environment type name shown in Harbor's logs."""
        return "chroot"

    @property
    def capabilities(self) -> EnvironmentCapabilities:
        """Return the default capabilities, so GPU and no-network tasks are rejected."""
        return EnvironmentCapabilities()

    def _validate_definition(self) -> None:
        """Accept any task, because the Dockerfile is ignored by design."""

    async def start(self, force_build: bool) -> None:
        """Create the chroot's private folders and the mount points for the binds.

        Args:
            force_build: Ignored, because there is no image to build.
        """
        if os.geteuid() != 0:
            raise PermissionError(
                "ChrootEnvironment needs root for mount and chroot, "
                f"but the effective UID is {os.geteuid()}. Run harbor as root."
            )
        for relative in PRIVATE_DIRS:
            (self.root_dir / relative).mkdir(parents=True, exist_ok=True)
        for sticky in ("tmp", "var/tmp"):
            (self.root_dir / sticky).chmod(0o1777)
        # A task's [agent].user or [verifier].user may be non-root, and no
        # Dockerfile runs to chown these for it, so they are world-writable.
        for shared in WORLD_WRITABLE_DIRS:
            (self.root_dir / shared).chmod(0o777)
        for source in self._ro_binds:
            self._prepare_mount_point(Path(source))
        self.logger.debug("Chroot %s is ready", self.root_dir)

    def _prepare_mount_point(self, source: Path) -> None:
        target = self.root_dir / source.relative_to("/")
        if source.is_symlink():
            if not target.is_symlink():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(os.readlink(source))
        elif source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
        else:
            raise FileNotFoundError(f"Bind source {source} not found. Remove it from ro_binds or create it.")

    async def stop(self, delete: bool) -> None:
        """Kill processes left in the chroot and, if ``delete``, remove its folder.

        Args:
            delete: Whether to remove ``<trial_dir>/chroot/<session_id>``.
        """
        self._kill_leftover_processes()
        if delete and self.root_dir.exists():
            shutil.rmtree(self.root_dir)
            if not any(self.root_dir.parent.iterdir()):
                self.root_dir.parent.rmdir()

    def _kill_leftover_processes(self) -> None:
        root = str(self.root_dir)
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if os.readlink(proc / "root") == root:
                    os.kill(int(proc.name), signal.SIGKILL)
                    self.logger.debug("Killed leftover process %s in %s", proc.name, root)
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue

    def _bind_script(self) -> str:
        """Build the shell script that mounts everything, then chroots."""
        quote = shlex.quote
        lines = ["set -e"]
        for source in self._ro_binds:
            if not Path(source).is_symlink():
                target = quote(str(self.root_dir / source.lstrip("/")))
                lines.append(f"{self._mount} --bind -o ro {quote(source)} {target}")
        lines.append(f"{self._mount} --rbind /dev {quote(str(self.root_dir / 'dev'))}")
        lines.append(f"{self._mount} -t proc proc {quote(str(self.root_dir / 'proc'))}")
        lines.append('exec "$@"')
        return "\n".join(lines)

    async def exec(
        self,
        command: str,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout_sec: int | None = None,
        user: str | int | None = None,
    ) -> ExecResult:
        """Run ``bash -c command`` inside the chroot.

        Args:
            command: Shell command for bash.
            cwd: Working directory inside the chroot. The default is the task's
                ``[environment].workdir``, else ``/app``.
            env: Variables added on top of the environment's persistent ones.
            timeout_sec: Seconds before the command's process group is killed.
            user: User name or UID. ``None`` falls back to ``default_user``, then root.

        Returns:
            The exit code and the decoded stdout and stderr.

        Raises:
            RuntimeError: If the command timed out, as Harbor's Docker environment does.
        """
        workdir = cwd or self.task_env_config.workdir or "/app"
        chroot_args = [self._chroot]
        resolved_user = self._resolve_user(user)
        if resolved_user not in (None, 0, "0", "root"):
            chroot_args.append(f"--userspec={resolved_user}")
        setup_argv = [self._unshare, "--mount", "--propagation", "private"]
        setup_argv += ["/bin/sh", "-c", self._bind_script()]
        chroot_argv = [*chroot_args, str(self.root_dir)]
        chroot_argv += ["/usr/bin/env", "-C", workdir, "bash", "-c", command]
        # Host variables are not inherited, as they would not be in a container.
        process_env = {
            "PATH": DEFAULT_PATH,
            "HOME": "/root",
            "LANG": "C.UTF-8",
            **(self._merge_env(env) or {}),
        }
        process = await asyncio.create_subprocess_exec(
            *setup_argv,
            "chroot-setup",  # $0 of the setup script, so "$@" is the chroot command line.
            *chroot_argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=process_env,
            start_new_session=True,
        )
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=timeout_sec)
        except TimeoutError:
            raise RuntimeError(f"Command timed out after {timeout_sec} seconds") from None
        finally:
            # Also reached on cancellation, which is how Harbor enforces agent and verifier timeouts.
            if process.returncode is None:
                _kill_group(process.pid)
                await process.wait()
        return ExecResult(
            stdout=stdout.decode(errors="replace") or None,
            stderr=stderr.decode(errors="replace") or None,
            return_code=process.returncode or 0,
        )

    def _host_path(self, environment_path: str) -> Path:
        """Map a path inside the chroot to the host, rejecting escapes and bound paths."""
        host_path = (self.root_dir / environment_path.lstrip("/")).resolve()
        root = self.root_dir.resolve()
        if not host_path.is_relative_to(root):
            raise ValueError(
                f"Path {environment_path} resolves outside the chroot {root}. "
                "Use a path under /app, /logs or /tmp."
            )
        for source in self._ro_binds:
            if host_path.is_relative_to(root / source.lstrip("/")):
                raise ValueError(
                    f"Path {environment_path} is on the read-only bind {source}. "
                    "Use a path under /app, /logs or /tmp."
                )
        return host_path

    async def upload_file(self, source_path: Path | str, target_path: str) -> None:
        """Copy a host file into the chroot, creating parent folders.

        Args:
            source_path: File on the host.
            target_path: Destination path inside the chroot.
        """
        target = self._host_path(target_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source_path, target)

    async def upload_dir(self, source_dir: Path | str, target_dir: str) -> None:
        """Copy a host folder's contents into a chroot folder, merging with what is there.

        Args:
            source_dir: Folder on the host.
            target_dir: Destination folder inside the chroot.
        """
        shutil.copytree(source_dir, self._host_path(target_dir), symlinks=True, dirs_exist_ok=True)

    async def download_file(self, source_path: str, target_path: Path | str) -> None:
        """Copy a file out of the chroot, creating parent folders on the host.

        Args:
            source_path: File inside the chroot.
            target_path: Destination path on the host.
        """
        Path(target_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(self._host_path(source_path), target_path)

    async def download_dir(self, source_dir: str, target_dir: Path | str) -> None:
        """Copy a chroot folder's contents to the host, overwriting files there.

        Args:
            source_dir: Folder inside the chroot.
            target_dir: Destination folder on the host.
        """
        shutil.copytree(self._host_path(source_dir), target_dir, symlinks=True, dirs_exist_ok=True)


def _require_tool(name: str) -> str:
    path = shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path is None:
        raise FileNotFoundError(
            f"{name} not found in /usr/sbin:/usr/bin:/sbin:/bin. Install util-linux and coreutils."
        )
    return path


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
