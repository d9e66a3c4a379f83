"""The application layer, Qt-free: model policy, the reading session and the audit events it writes.

Both faces sit on it: ``viewer.ui`` (the window turns session state into widgets) and
``viewer.cli`` (headless commands). Importing this package imports neither Qt nor torch.
"""
