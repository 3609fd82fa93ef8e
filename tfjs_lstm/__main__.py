"""`python -m tfjs_lstm` runs the command line."""

from .cli import main

raise SystemExit(main())
