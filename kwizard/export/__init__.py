"""The setup plan in other hands: an Ansible playbook, shell runbooks, kubeadm's own files.

Every exporter walks the same plan (`walk.py`), so what they write is what
`kwizard plan` prints and `kwizard apply` runs; none of them types a script.
"""
