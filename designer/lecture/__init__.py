"""The designer's lecture lab (issue 18): the step-through view and the one-click replacements.

The numbers come from ``engine.lecture`` and ``engine.analysis``; this package only draws them
and turns a user's click into one undoable edit.
"""
