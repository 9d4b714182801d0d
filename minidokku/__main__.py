from minidokku.entry import main

main()
