"""kwizard: stand up a kubeadm cluster over SSH, interactively or from a profile."""

__version__ = "0.1.0"
