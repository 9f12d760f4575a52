"""The Debian package, built and installed as a user would (suite 'package').

Builds slawatch_VERSION_ARCH.deb with `dpkg-buildpackage -b -us -uc` in a copy of the source
tree (the checkout stays clean), installs it with apt on a fresh Debian 12 minbase root made by
debootstrap, and checks from the installed files: the package's contents and conffiles, the
system user, `slawatch check /etc/slawatch/config.yaml`, `slawatch --version`, an edited
configuration surviving a reinstall, and `systemd-analyze verify` of the installed unit
(systemd and man-db installed into the root afterwards, so verify also finds the man pages).

usage: test_deb.py SOURCE_DIR WORK_DIR VERSION

WORK_DIR keeps the debootstrap root as a tarball between runs (bookworm-minbase.tar): the
first run downloads it (about 3 minutes), later runs start from it. The Debian mirror is
http://deb.debian.org/debian unless SLAWATCH_DEBIAN_MIRROR says otherwise. Needs root (for
chroot and debootstrap) and the packages debhelper, dpkg-dev, debootstrap, fakeroot; fails,
never skips, without them.
"""
import os
import shutil
import subprocess
import sys

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


def require_tools():
    if os.geteuid() != 0:
        fail("needs root: debootstrap and chroot (run the suite as root)")
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


def cached_root(work):
    """The minbase root's tarball, made once per WORK_DIR."""
    tar = os.path.join(work, "%s-minbase.tar" % SUITE)
    if os.path.exists(tar):
        return tar
    root = os.path.join(work, "debootstrap")
    shutil.rmtree(root, ignore_errors=True)
    run(["debootstrap", "--variant=minbase", SUITE, root, MIRROR],
        log=os.path.join(work, "debootstrap.log"), env={"PATH": CLEAN_PATH})
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


def check_unit(root, work):
    root.run("apt-get", "install", "-y", "-q", "--no-install-recommends", "systemd", "man-db",
             log=os.path.join(work, "apt-systemd.log"))
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
    require_tools()
    if debian_version(src) != version:
        fail("debian/changelog's version %s is not the project's %s" %
             (debian_version(src), version))
    os.makedirs(work, exist_ok=True)
    run_dir = os.path.join(work, "run")
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)

    deb = build_deb(src, run_dir, version)
    check_contents(deb)

    root = Root(cached_root(work), os.path.join(run_dir, "root"))
    deb_in_root = "/tmp/" + os.path.basename(deb)
    shutil.copy(deb, root.file(deb_in_root))
    root.run("apt-get", "update", "-q", log=os.path.join(run_dir, "apt-update.log"))
    root.run("apt-get", "install", "-y", "-q", "--no-install-recommends", deb_in_root,
             log=os.path.join(run_dir, "apt-install.log"))
    check_installed(root, version)
    check_conffile_kept(root, deb_in_root)
    check_unit(root, run_dir)

    shutil.rmtree(run_dir)
    print("ok: %s installs on a fresh %s root and passes its checks" %
          (os.path.basename(deb), SUITE))


if __name__ == "__main__":
    main()
