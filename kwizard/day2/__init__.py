"""Day two: a running cluster's status, certificates, etcd backups, nodes added and removed, upgrades."""
