"""The Textual face of kwizard (installed as kwizard.screens)."""
