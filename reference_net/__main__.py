"""python -m reference_net: reproduce the first article's MNIST experiment."""

from reference_net.experiment import main

raise SystemExit(main())
