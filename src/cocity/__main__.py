from cocity.cli import main

main()
