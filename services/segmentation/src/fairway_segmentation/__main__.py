from fairway_segmentation.app import main

main()
