"""Day two in the wizard: a saved profile's cluster at a glance, its upgrade, adding and removing nodes."""
