"""The files people edit: the inventory (Ansible's YAML format) and patrol playbooks.

Each loader validates the whole file before anything runs and raises one ``checks.errors.ConfigError``
listing every problem with its file, line and field.
"""
