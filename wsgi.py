from surveyhub import create_app

app = create_app()
