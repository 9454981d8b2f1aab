"""Memory in the window (issue 20, point 1): the plan of the design under the training settings,
computed once per design or settings change, shown in the layer summary and the inspector."""
