"""The Debian package, built and installed as a user would (suite 'package').

Builds slawatch_VERSION_ARCH.deb with `dpkg-buildpackage -b -us -uc` in a copy of the source
tree (the checkout stays clean), installs it with apt on a fresh Debian 12 minbase root made by
debootstrap, and checks from the installed files: the package's contents and conffiles, the
system user, `slawatch check /etc/slawatch/config.yaml`, `slawatch --version`, an edited
configuration surviving a reinstall, `slawatch serve` of the installed configuration run as
the system user the way the unit runs it (data in /var/lib/slawatch, SIGHUP reloads, SIGTERM
stops with exit 0), and `systemd-analyze verify` of the installed unit (systemd and man-db
installed into the root afterwards, so verify also finds the man pages); then that remove
keeps the configuration and the store and purge deletes them.

usage: test_deb.py SOURCE_DIR WORK_DIR VERSION

WORK_DIR (or SLAWATCH_PACKAGE_CACHE, to share it between build directories) keeps the
debootstrap root as a tarball (bookworm-minbase.tar) and the packages apt downloaded into it
(apt-archives/) between runs: the first run downloads them (a few minutes), later runs start
from them. The Debian mirror is http://deb.debian.org/debian unless SLAWATCH_DEBIAN_MIRROR
says otherwise. Needs root (for chroot and debootstrap; password-less sudo will do) and the packages
debhelper, dpkg-dev, debootstrap, fakeroot; fails, never skips, without them.
"""
import os
import shutil
import signal
import subprocess
import sys
import urllib.request

SUITE = "bookworm"
MIRROR = os.environ.get("SLAWATCH_DEBIAN_MIRROR", "http://deb.debian.org/debian")
CLEAN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
EXPECTED_FILES = [
    "/usr/bin/slawatch",
    "/etc/slawatch/config.yaml",
    "/etc/slawatch/rules/production.yaml",
    "/lib/systemd/system/slawatch.service",
    "/usr/lib/sysusers.d/slawatch.conf",
    "/usr/share/man/man1/slawatch.1.gz",
    "/usr/share/man/man5/slawatch-rules.5.gz",
    "/usr/share/man/man5/slawatch-config.5.gz",
    "/usr/share/slawatch/grafana/slawatch.json",
]
CONFFILES = ["/etc/slawatch/config.yaml", "/etc/slawatch/rules/production.yaml"]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def run(cmd, log=None, **kw):
    """Runs cmd; on a non-zero exit prints its output (or the log's end) and fails."""
    print("$ " + " ".join(cmd), flush=True)
    if log is None:
        p = subprocess.run(cmd, capture_output=True, text=True, **kw)
        out = p.stdout + p.stderr
    else:
        with open(log, "w") as f:
            p = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, text=True, **kw)
        with open(log) as f:
            out = "".join(f.readlines()[-40:])
    if p.returncode != 0:
        fail("%s exited %d:\n%s" % (cmd[0], p.returncode, out))
    return p


def become_root():
    """debootstrap and chroot need root: a user with password-less sudo gets it that way
    (the files left in WORK_DIR are handed back to the user at the end)."""
    if os.geteuid() == 0:
        return
    keep = "--preserve-env=SLAWATCH_PACKAGE_CACHE,SLAWATCH_DEBIAN_MIRROR"
    sudo = shutil.which("sudo")
    if sudo is None or subprocess.run([sudo, "-n", "true"], capture_output=True).returncode:
        fail("needs root for debootstrap and chroot: run the suite as root or with "
             "password-less sudo")
    os.execv(sudo, [sudo, "-n", keep, sys.executable] + sys.argv)


def give_back(*dirs):
    """Under sudo, the files made here belong to the user who ran the test."""
    uid, gid = os.environ.get("SUDO_UID"), os.environ.get("SUDO_GID")
    if uid is None or gid is None:
        return
    for d in dirs:
        if os.path.exists(d):
            subprocess.run(["chown", "-R", "%s:%s" % (uid, gid), d], check=True)


def require_tools():
    missing = [t for t in ("dpkg-buildpackage", "dh", "debootstrap", "fakeroot", "chroot",
                           "unshare", "dpkg-deb")
               if shutil.which(t, path=CLEAN_PATH) is None]
    if missing:
        fail("missing " + ", ".join(missing) +
             ": install debhelper dpkg-dev debootstrap fakeroot")


def debian_version(src):
    with open(os.path.join(src, "debian", "changelog")) as f:
        first = f.readline()
    return first[first.index("(") + 1:first.index(")")]


def copy_source(src, dest):
    """The files git tracks or would track (so uncommitted work is packaged too)."""
    if os.path.exists(os.path.join(src, ".git")) and shutil.which("git"):
        out = subprocess.run(["git", "-C", src, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, check=True).stdout
        for rel in filter(None, out.decode().split("\0")):
            source = os.path.join(src, rel)
            if not os.path.lexists(source):
                continue  # deleted in the working tree
            target = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
    else:
        shutil.copytree(src, dest, symlinks=True,
                        ignore=shutil.ignore_patterns("build*", "obj-*", ".git"))


def build_deb(src, work, version):
    tree = os.path.join(work, "src")
    copy_source(src, tree)
    env = {"PATH": CLEAN_PATH, "HOME": work, "LC_ALL": "C.UTF-8",
           "DEB_BUILD_OPTIONS": "nocheck parallel=2"}
    run(["dpkg-buildpackage", "-b", "-us", "-uc"], log=os.path.join(work, "build.log"),
        cwd=tree, env=env)
    arch = run(["dpkg-architecture", "-qDEB_HOST_ARCH"], env=env).stdout.strip()
    deb = os.path.join(work, "slawatch_%s_%s.deb" % (version, arch))
    if not os.path.exists(deb):
        fail("dpkg-buildpackage made no " + os.path.basename(deb) + ": " +
             ", ".join(sorted(os.listdir(work))))
    return deb


def check_contents(deb):
    listing = run(["dpkg-deb", "--contents", deb]).stdout
    paths = {line.split()[5].lstrip(".") for line in listing.splitlines()}
    missing = [p for p in EXPECTED_FILES if p not in paths]
    if missing:
        fail("the package lacks " + ", ".join(missing) + "; it holds:\n" + listing)
    conffiles = run(["dpkg-deb", "--info", deb, "conffiles"]).stdout.split()
    if sorted(conffiles) != sorted(CONFFILES):
        fail("conffiles are %s, expected %s" % (conffiles, CONFFILES))


def cached_root(cache):
    """The minbase root's tarball, made once per cache directory."""
    tar = os.path.join(cache, "%s-minbase.tar" % SUITE)
    if os.path.exists(tar):
        return tar
    root = os.path.join(cache, "debootstrap")
    shutil.rmtree(root, ignore_errors=True)
    run(["debootstrap", "--variant=minbase", SUITE, root, MIRROR],
        log=os.path.join(cache, "debootstrap.log"), env={"PATH": CLEAN_PATH})
    run(["chroot", root, "apt-get", "clean"], env={"PATH": CLEAN_PATH})
    run(["tar", "-C", root, "-cf", tar + ".part", "."])
    os.rename(tar + ".part", tar)
    shutil.rmtree(root)
    return tar


class Root:
    """A fresh root from the tarball; commands run chrooted in their own mount and PID
    namespaces (a private /proc that disappears with them)."""

    def __init__(self, tar, path):
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        run(["tar", "-C", path, "--numeric-owner", "-xf", tar])
        shutil.copy("/etc/resolv.conf", os.path.join(path, "etc", "resolv.conf"))
        self.path = path

    def cmd(self, *args):
        return ["unshare", "--mount", "--pid", "--fork",
                "--mount-proc=" + os.path.join(self.path, "proc"),
                "chroot", self.path, "/usr/bin/env", "-i", "PATH=" + CLEAN_PATH,
                "LC_ALL=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"] + list(args)

    def run(self, *args, log=None):
        return run(self.cmd(*args), log=log)

    def file(self, path):
        return os.path.join(self.path, path.lstrip("/"))

    def apt_install(self, cache, log, *args):
        """apt-get install with the packages earlier runs downloaded; keeps the new ones."""
        archives = self.file("/var/cache/apt/archives")
        kept = os.path.join(cache, "apt-archives")
        os.makedirs(kept, exist_ok=True)
        for name in os.listdir(kept):
            shutil.copy(os.path.join(kept, name), archives)
        self.run("apt-get", "install", "-y", "-q", "--no-install-recommends", *args, log=log)
        for name in os.listdir(archives):
            if name.endswith(".deb") and not os.path.exists(os.path.join(kept, name)):
                shutil.copy(os.path.join(archives, name), kept)


def check_installed(root, version):
    out = root.run("slawatch", "check", "/etc/slawatch/config.yaml").stdout
    print(out, end="")
    if "data_dir /var/lib/slawatch" not in out or "production.yaml: ok" not in out:
        fail("slawatch check of the installed configuration said:\n" + out)
    got = root.run("slawatch", "--version").stdout.strip()
    if got != "slawatch " + version:
        fail("slawatch --version printed %r, expected %r" % (got, "slawatch " + version))

    user = root.run("getent", "passwd", "slawatch").stdout.strip().split(":")
    if int(user[2]) >= 1000 or user[5] != "/var/lib/slawatch" or \
            not user[6].endswith("nologin"):
        fail("the slawatch user is not a system user living in /var/lib/slawatch: %s" % user)
    root.run("getent", "group", "slawatch")

    installed = root.run("dpkg-query", "-W", "-f=${Conffiles}", "slawatch").stdout.split()
    for path in CONFFILES:
        if path not in installed:
            fail("%s is not a conffile of the installed package: %s" % (path, installed))


def check_conffile_kept(root, deb_in_root):
    """A reinstall (or upgrade) keeps a configuration the administrator edited."""
    config = root.file("/etc/slawatch/config.yaml")
    with open(config) as f:
        edited = f.read().replace("log_level: info", "log_level: debug")
    with open(config, "w") as f:
        f.write(edited)
    root.run("apt-get", "install", "-y", "-q", "--reinstall", deb_in_root)
    with open(config) as f:
        if f.read() != edited:
            fail("reinstalling the package replaced the edited /etc/slawatch/config.yaml")
    root.run("slawatch", "check", "/etc/slawatch/config.yaml")


def check_serves(root, src):
    """`slawatch serve` on the installed configuration, as the unit runs it: as the system
    user, in /var/lib/slawatch as systemd's StateDirectory= makes it (owned by the user, mode
    0750). Listens on a free port instead of the configuration's 9464."""
    sys.path.insert(0, os.path.join(src, "tests", "integration"))
    from serve_util import free_port, wait_until

    user = root.run("getent", "passwd", "slawatch").stdout.strip().split(":")
    state = root.file("/var/lib/slawatch")
    os.makedirs(state, exist_ok=True)
    os.chown(state, int(user[2]), int(user[3]))
    os.chmod(state, 0o750)
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    log = open(os.path.join(os.path.dirname(root.path), "serve.log"), "w+")
    proc = subprocess.Popen(root.cmd("setpriv", "--reuid=slawatch", "--regid=slawatch",
                                     "--init-groups", "slawatch", "serve", "--config",
                                     "/etc/slawatch/config.yaml", "--listen",
                                     "127.0.0.1:%d" % port),
                            stdout=log, stderr=subprocess.STDOUT)

    def get(path):
        with urllib.request.urlopen(base + path, timeout=5) as r:
            return r.status, r.read().decode()

    def metric(name):
        for line in get("/metrics")[1].splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    try:
        wait_until("/-/ready", lambda: proc.poll() is None and get("/-/ready")[0] == 200,
                   timeout=60)
        # unshare --fork's child became slawatch through chroot, env and setpriv (exec each).
        with open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)) as f:
            daemon = int(f.read().split()[0])
        os.kill(daemon, signal.SIGHUP)
        wait_until("slawatch_reloads_total 1", lambda: metric("slawatch_reloads_total") == 1)
        os.kill(daemon, signal.SIGTERM)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.seek(0)
        output = log.read()
        log.close()
    print(output, end="")
    if code != 0:
        fail("slawatch serve exited %d after SIGTERM" % code)
    db = os.path.join(state, "slawatch.db")
    if not os.path.exists(db) or os.stat(db).st_uid != int(user[2]):
        fail("serve as the slawatch user left no slawatch.db of its own in /var/lib/slawatch")


def check_unit(root, cache, work):
    root.apt_install(cache, os.path.join(work, "apt-systemd.log"), "systemd", "man-db")
    p = subprocess.run(root.cmd("systemd-analyze", "verify",
                                "/lib/systemd/system/slawatch.service"),
                       capture_output=True, text=True)
    print("systemd-analyze verify: exit %d %s%s" % (p.returncode, p.stdout, p.stderr))
    if p.returncode != 0 or p.stdout.strip() or p.stderr.strip():
        fail("systemd-analyze verify is not clean")
    with open(root.file("/lib/systemd/system/slawatch.service")) as f:
        unit = f.read()
    for line in ("User=slawatch", "StateDirectory=slawatch", "ProtectSystem=strict",
                 "ExecReload=/bin/kill -HUP $MAINPID",
                 "ExecStart=/usr/bin/slawatch serve --config /etc/slawatch/config.yaml"):
        if line not in unit.splitlines():
            fail("the installed unit lacks the line %r" % line)


def main():
    if len(sys.argv) != 4:
        fail(__doc__)
    src, work, version = (os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]),
                          sys.argv[3])
    become_root()
    require_tools()
    if debian_version(src) != version:
        fail("debian/changelog's version %s is not the project's %s" %
             (debian_version(src), version))
    os.makedirs(work, exist_ok=True)
    cache = os.environ.get("SLAWATCH_PACKAGE_CACHE", work)
    os.makedirs(cache, exist_ok=True)
    run_dir = os.path.join(work, "run")
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)

    try:
        check_package(src, run_dir, cache, version)
    finally:
        give_back(work, cache)
    shutil.rmtree(run_dir)


def check_remove_purge(root):
    """remove keeps the configuration and the store; purge deletes both, keeps the user."""
    config = root.file("/etc/slawatch/config.yaml")
    db = root.file("/var/lib/slawatch/slawatch.db")
    root.run("apt-get", "remove", "-y", "-q", "slawatch")
    if os.path.exists(root.file("/usr/bin/slawatch")):
        fail("apt-get remove left /usr/bin/slawatch")
    if not os.path.exists(config) or not os.path.exists(db):
        fail("apt-get remove deleted the configuration or the store")
    root.run("apt-get", "purge", "-y", "-q", "slawatch")
    for path in ("/etc/slawatch", "/var/lib/slawatch"):
        if os.path.exists(root.file(path)):
            fail("apt-get purge left " + path)
    root.run("getent", "passwd", "slawatch")


def check_package(src, run_dir, cache, version):
    deb = build_deb(src, run_dir, version)
    check_contents(deb)

    root = Root(cached_root(cache), os.path.join(run_dir, "root"))
    deb_in_root = "/tmp/" + os.path.basename(deb)
    shutil.copy(deb, root.file(deb_in_root))
    root.run("apt-get", "update", "-q", log=os.path.join(run_dir, "apt-update.log"))
    root.apt_install(cache, os.path.join(run_dir, "apt-install.log"), deb_in_root)
    check_installed(root, version)
    check_conffile_kept(root, deb_in_root)
    check_serves(root, src)
    check_unit(root, cache, run_dir)
    check_remove_purge(root)
    print("ok: %s installs on a fresh %s root and passes its checks" %
          (os.path.basename(deb), SUITE))


if __name__ == "__main__":
    main()
