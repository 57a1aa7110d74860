"""python -m gradcheck: the command line."""

from gradcheck.frontends.cli import main

raise SystemExit(main())
