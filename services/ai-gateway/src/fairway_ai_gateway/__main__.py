from fairway_ai_gateway.app import main

main()
