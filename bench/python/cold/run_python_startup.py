# The floor: the interpreter starting and exiting, doing nothing.
