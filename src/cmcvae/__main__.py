from cmcvae.cli import main

main()
