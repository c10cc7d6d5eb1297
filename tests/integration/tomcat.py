"""A private Tomcat 10 for tests: loopback only, a generated manager-status user, stopped by PID.

    server = start_tomcat(password="...", jolokia=True)
    server.url                 # http://127.0.0.1:PORT
    server.stop()

Built as in the shared TESTING notes: a private CATALINA_BASE (config copied from /etc/tomcat10,
the manager app from tomcat10-admin), one connector with ``maxThreads="50"``, a ``sleep.jsp`` that
holds a request thread until the test releases it (so tests make threads busy for real), and, with
``jolokia=True``, Debian's Jolokia agent converted to Jakarta EE by ``javax2jakarta`` (Debian ships
it for javax servlets only) and deployed at ``/jolokia``. Missing Debian packages are installed
(as root) by ``ensure_packages``; nothing is skipped.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

CATALINA_HOME = Path("/usr/share/tomcat10")
MANAGER = Path("/usr/share/tomcat10-admin/manager")
JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"
JOLOKIA_JAR = Path("/usr/share/java/jolokia-core.jar")
JSON_SIMPLE_JAR = Path("/usr/share/java/json-simple.jar")
MIGRATION_TOOL = Path("/usr/bin/javax2jakarta")
PACKAGES = {"tomcat10": CATALINA_HOME, "tomcat10-admin": MANAGER, "libjolokia-core-java": JOLOKIA_JAR,
            "tomcat-jakartaee-migration": MIGRATION_TOOL}  # fmt: skip
MAX_THREADS = 50
START_TIMEOUT_SECONDS = 60  # the JVM on two shared cores: usually 2-4 s, much more under load
USER = "patrol"

SLEEP_JSP = """<%@ page contentType="text/plain" import="java.io.File" %><%
  // Holds this request's thread, so the status page counts it as busy, until the test releases the
  // batch (a file release-BATCH next to this page) or ?ms= milliseconds have passed.
  File release = new File(application.getRealPath("/"), "release-" + request.getParameter("batch"));
  long until = System.currentTimeMillis() + Long.parseLong(request.getParameter("ms"));
  while (!release.exists() && System.currentTimeMillis() < until) Thread.sleep(20);
%>released
"""

SERVER_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector address="127.0.0.1" port="{port}" protocol="HTTP/1.1" maxThreads="{max_threads}"
               connectionTimeout="20000"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Realm className="org.apache.catalina.realm.UserDatabaseRealm" resourceName="UserDatabase"/>
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false"/>
    </Engine>
  </Service>
  <GlobalNamingResources>
    <Resource name="UserDatabase" auth="Container" type="org.apache.catalina.UserDatabase"
              factory="org.apache.catalina.users.MemoryUserDatabaseFactory" pathname="conf/tomcat-users.xml"/>
  </GlobalNamingResources>
</Server>
"""

USERS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<tomcat-users xmlns="http://tomcat.apache.org/xml" version="1.0">
  <role rolename="manager-status"/>
  <role rolename="jolokia"/>
  <user username="{user}" password="{password}" roles="manager-status,jolokia"/>
  <user username="nobody" password="{password}" roles="jolokia"/>
</tomcat-users>
"""

MANAGER_XML = f'<Context docBase="{MANAGER}" antiResourceLocking="false" privileged="true"/>\n'

# Jolokia's agent servlet behind basic auth (role "jolokia"), as a site would deploy it.
JOLOKIA_WEB_XML = """<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="5.0">
  <servlet>
    <servlet-name>jolokia-agent</servlet-name>
    <servlet-class>org.jolokia.http.AgentServlet</servlet-class>
    <load-on-startup>1</load-on-startup>
  </servlet>
  <servlet-mapping><servlet-name>jolokia-agent</servlet-name><url-pattern>/*</url-pattern></servlet-mapping>
  <security-constraint>
    <web-resource-collection><web-resource-name>jolokia</web-resource-name><url-pattern>/*</url-pattern>
    </web-resource-collection>
    <auth-constraint><role-name>jolokia</role-name></auth-constraint>
  </security-constraint>
  <login-config><auth-method>BASIC</auth-method><realm-name>jolokia</realm-name></login-config>
  <security-role><role-name>jolokia</role-name></security-role>
</web-app>
"""


class TomcatError(RuntimeError):
    """Tomcat could not be set up or started; the message carries the output."""


def ensure_packages() -> None:
    missing = [name for name, path in PACKAGES.items() if not path.exists()]
    if not missing:
        return
    if os.geteuid() != 0:
        raise TomcatError(f"missing Debian packages {' '.join(missing)}: run scripts/test-deps as root")
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]):  # fmt: skip
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode:
            raise TomcatError(f"{' '.join(cmd)}: {done.stderr.strip()}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jakarta_jolokia(cache: Path) -> Path:
    """Debian's jolokia-core (javax.servlet) rewritten for jakarta.servlet; made once per cache dir."""
    out = cache / "jolokia-core-jakarta.jar"
    if not out.exists():
        done = subprocess.run(
            ["/usr/bin/javax2jakarta", str(JOLOKIA_JAR), str(out)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode or not out.exists():
            raise TomcatError(f"javax2jakarta failed: {done.stderr.strip() or done.stdout.strip()}")
    return out


@dataclass
class TomcatServer:
    base: Path
    port: int
    password: str
    process: subprocess.Popen
    user: str = USER
    owns_directory: Path | None = None  # made by start_tomcat: removed by stop
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def release(self, batch: str) -> None:
        """Let the requests of ``batch`` to sleep.jsp finish."""
        (self.base / "webapps" / "ROOT" / f"release-{batch}").touch()

    def log(self) -> str:
        path = self.base / "logs" / "console.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        # runuser -> catalina.sh -> java share the process group this server was started in.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        if self.owns_directory is not None:
            shutil.rmtree(self.owns_directory, ignore_errors=True)


def build_base(base: Path, port: int, password: str, jolokia_jar: Path | None) -> None:
    for sub in ("conf/Catalina/localhost", "logs", "temp", "work", "webapps/ROOT"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    for name in ("catalina.properties", "context.xml", "jaspic-providers.xml", "logging.properties", "web.xml"):
        shutil.copy(Path("/etc/tomcat10") / name, base / "conf" / name)
    (base / "conf/server.xml").write_text(SERVER_XML.format(port=port, max_threads=MAX_THREADS))
    (base / "conf/tomcat-users.xml").write_text(USERS_XML.format(user=USER, password=password))
    (base / "conf/Catalina/localhost/manager.xml").write_text(MANAGER_XML)
    (base / "webapps/ROOT/sleep.jsp").write_text(SLEEP_JSP)
    if jolokia_jar is not None:
        lib = base / "webapps/jolokia/WEB-INF/lib"
        lib.mkdir(parents=True)
        shutil.copy(jolokia_jar, lib / "jolokia-core.jar")
        shutil.copy(JSON_SIMPLE_JAR, lib / "json-simple.jar")
        (base / "webapps/jolokia/WEB-INF/web.xml").write_text(JOLOKIA_WEB_XML)
    subprocess.run(["chown", "-R", "tomcat:", str(base)], check=True)


def start_tomcat(password: str, jolokia: bool = False, directory: Path | None = None) -> TomcatServer:
    """Start a server in ``directory`` (default: a new one under /tmp, removed by ``stop``).

    The tomcat user must reach the directory: pytest's own temporary directories are private to root.
    """
    ensure_packages()
    owns = directory is None
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="patrol-tomcat-"))
        directory.chmod(0o755)
    try:
        return _start(directory, password, jolokia, owns)
    except BaseException:
        if owns:
            shutil.rmtree(directory, ignore_errors=True)
        raise


def _start(directory: Path, password: str, jolokia: bool, owns: bool) -> TomcatServer:
    jar = jakarta_jolokia(directory) if jolokia else None
    base = directory / "catalina-base"
    port = free_port()
    build_base(base, port, password, jar)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CATALINA_HOME": str(CATALINA_HOME), "CATALINA_BASE": str(base), "CATALINA_TMPDIR": str(base / "temp"),
        "JAVA_HOME": JAVA_HOME, "CATALINA_OPTS": "-Xmx256m -XX:+UseSerialGC -Xshare:auto",
    }  # fmt: skip
    console = open(base / "logs" / "console.log", "wb")  # noqa: SIM115 - kept open for the server's life
    process = subprocess.Popen(
        ["runuser", "-u", "tomcat", "--", "env", *[f"{k}={v}" for k, v in env.items()],
         str(CATALINA_HOME / "bin/catalina.sh"), "run"],
        stdout=console, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    console.close()
    server = TomcatServer(base, port, password, process, owns_directory=directory if owns else None)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TomcatError(f"Tomcat exited with {process.returncode}: {server.log()}")
        try:
            answer = requests.get(f"{server.url}/manager/status?XML=true", auth=(USER, password), timeout=2)
            if answer.status_code == 200 and (
                not jolokia
                or requests.get(f"{server.url}/jolokia/version", auth=(USER, password), timeout=2).status_code == 200
            ):
                return server
        except requests.RequestException:
            pass
        time.sleep(0.3)
    server.stop()
    raise TomcatError(f"Tomcat did not answer within {START_TIMEOUT_SECONDS} s: {server.log()}")
