from sndskit.cli import main

main()
