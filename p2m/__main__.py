from p2m.cli import main

raise SystemExit(main())
