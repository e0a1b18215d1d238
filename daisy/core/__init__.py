"""Pure scheduling core: standard library only, no Django, no clock, no I/O."""
