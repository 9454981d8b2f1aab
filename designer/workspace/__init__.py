"""The main window's workspace: the Design, Train and Runs views (``views``), the Train and
Runs pages (``train_view``), text that never widens the window (``elided``) and a recorded run
drawn in the dashboard (``recorded``)."""
