"""Notifications: channels, routing, grouping, templates and delivery of event notices."""
