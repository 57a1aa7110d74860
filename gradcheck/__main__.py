"""python -m gradcheck: the command line."""

from gradcheck.cli import main

raise SystemExit(main())
