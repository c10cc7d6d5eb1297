"""Middleware checks: Tomcat's manager status page, any JVM through Jolokia, WebLogic's REST API."""
