// Lets the tests host the app with WebApplicationFactory<Program>.
public partial class Program;
