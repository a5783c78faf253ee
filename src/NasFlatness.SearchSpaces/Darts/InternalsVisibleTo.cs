using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("NasFlatness.SearchSpaces.Tests")]
