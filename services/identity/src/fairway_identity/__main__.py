from fairway_identity.app import main

main()
