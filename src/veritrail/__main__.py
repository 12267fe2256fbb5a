from veritrail.cli import main

main()
