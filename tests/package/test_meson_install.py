"""`meson install` into a staging directory (suite 'package').

Checks that every installed file is where the build's directories say, that the installed
configuration and rules are the shipped ones and pass `slawatch check` with the installed
binary, that the unit starts that binary on that configuration, that systemd-sysusers makes
the service's user from the installed entry, and that a second install
keeps a configuration someone edited (and restores a file someone deleted).

usage: test_meson_install.py BUILD_DIR SOURCE_DIR BINDIR CONFDIR UNITDIR SYSUSERSDIR
                             MANDIR DATADIR MAN_BUILT
(directories absolute, as installed; MAN_BUILT is true or false)
"""
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def meson_install(build, destdir):
    meson = shutil.which("meson")
    if meson is None:
        fail("meson is not on PATH")
    p = subprocess.run([meson, "install", "-C", build, "--no-rebuild", "--quiet",
                        "--destdir", destdir], capture_output=True, text=True)
    if p.returncode != 0:
        fail("meson install exited %d:\n%s%s" % (p.returncode, p.stdout, p.stderr))


def check_sysusers(dest, entry):
    """systemd-sysusers makes the service's user from the installed entry."""
    tool = shutil.which("systemd-sysusers", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if tool is None:
        fail("systemd-sysusers not found (Debian package systemd)")
    os.makedirs(os.path.join(dest, "etc"), exist_ok=True)
    p = subprocess.run([tool, "--root=" + dest, entry], capture_output=True, text=True)
    if p.returncode != 0:
        fail("systemd-sysusers %s: exit %d\n%s" % (entry, p.returncode, p.stderr))
    with open(os.path.join(dest, "etc", "passwd")) as f:
        users = [line.split(":") for line in f.read().splitlines()]
    mine = [u for u in users if u[0] == "slawatch"]
    if len(mine) != 1 or mine[0][5] != "/var/lib/slawatch" or int(mine[0][2]) >= 1000:
        fail("systemd-sysusers made no system user slawatch with home /var/lib/slawatch: %s"
             % users)


def main():
    if len(sys.argv) != 10:
        fail(__doc__)
    build, src, bindir, confdir, unitdir, sysusersdir, mandir, datadir = sys.argv[1:9]
    man_built = sys.argv[9] == "true"
    dest = tempfile.mkdtemp(prefix="install-", dir=build)
    try:
        def staged(path):
            return os.path.join(dest, path.lstrip("/"))

        meson_install(build, dest)

        shipped = {
            os.path.join(confdir, "config.yaml"): os.path.join(src, "dist", "config.yaml"),
            os.path.join(confdir, "rules", "production.yaml"):
                os.path.join(src, "rules", "production.yaml"),
            os.path.join(sysusersdir, "slawatch.conf"): os.path.join(src, "dist",
                                                                      "sysusers.conf"),
            os.path.join(datadir, "slawatch", "grafana", "slawatch.json"):
                os.path.join(src, "exporters", "grafana", "slawatch.json"),
        }
        for installed, source in shipped.items():
            if not os.path.isfile(staged(installed)):
                fail("meson install did not install " + installed)
            if not filecmp.cmp(staged(installed), source, shallow=False):
                fail("%s differs from %s" % (installed, source))
        binary = staged(os.path.join(bindir, "slawatch"))
        if not os.access(binary, os.X_OK):
            fail("no executable " + os.path.join(bindir, "slawatch"))
        pages = [("man1", "slawatch.1"), ("man5", "slawatch-rules.5"),
                 ("man5", "slawatch-config.5")]
        for section, page in pages if man_built else []:
            path = staged(os.path.join(mandir, section, page))
            with open(path) as f:
                if "\n.TH " not in f.read():
                    fail(path + " is not a man page")

        check_sysusers(dest, staged(os.path.join(sysusersdir, "slawatch.conf")))

        config = staged(os.path.join(confdir, "config.yaml"))
        p = subprocess.run([binary, "check", config], capture_output=True, text=True)
        if p.returncode != 0 or "data_dir /var/lib/slawatch" not in p.stdout:
            fail("slawatch check of the installed configuration: exit %d\n%s%s" %
                 (p.returncode, p.stdout, p.stderr))

        with open(staged(os.path.join(unitdir, "slawatch.service"))) as f:
            unit = f.read().splitlines()
        exec_start = "ExecStart=%s serve --config %s" % (os.path.join(bindir, "slawatch"),
                                                         os.path.join(confdir, "config.yaml"))
        for line in (exec_start, "StateDirectory=slawatch", "User=slawatch"):
            if line not in unit:
                fail("the installed unit lacks %r" % line)

        with open(config, "a") as f:
            f.write("# edited by the administrator\n")
        with open(config) as f:
            edited = f.read()
        rules = staged(os.path.join(confdir, "rules", "production.yaml"))
        os.remove(rules)
        meson_install(build, dest)
        with open(config) as f:
            if f.read() != edited:
                fail("a second meson install replaced the edited " + config)
        if not filecmp.cmp(rules, shipped[os.path.join(confdir, "rules", "production.yaml")],
                           shallow=False):
            fail("a second meson install did not restore the deleted " + rules)
        print("ok: installed under %s, configuration kept on reinstall" % dest)
    finally:
        shutil.rmtree(dest)


if __name__ == "__main__":
    main()
