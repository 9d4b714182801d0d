from minidokku.cli import main

main()
