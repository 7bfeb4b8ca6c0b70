import type { TrainingIntent } from './port';

/**
 * Generic out-of-scope questions: things customers type into a support chat that no support bot
 * is built for (weather, trivia, jokes, sums, personal-assistant requests, small talk about
 * life). With the linear matcher they are trained as a *rejection class*: the class is never an
 * answer, it only takes probability away from the bot's own intents, so "what's the capital of
 * Peru" gets a low confidence and the bot says it did not understand instead of answering with
 * whatever article shares a word with it.
 *
 * Hand-written for Baton (not taken from any data set). Rules for adding a line:
 *  - it must be off-topic for practically every customer-support bot: nothing about orders,
 *    delivery, payments, accounts, prices, products, stores, opening hours, bookings, repairs,
 *    complaints, contacting people or the bot's own features;
 *  - no greetings, thanks, goodbyes, "cancel", "start over" or "talk to a person" (built-ins);
 *  - vary the wording: short and long, questions and commands, lower case, a typo now and then.
 * A bot for which some of these are in scope (a weather service, a quiz) sets
 * `nlu.outOfScope: false` in bot.yaml, or simply has its own examples, which outweigh these.
 */
export const OUT_OF_SCOPE_INTENT = 'oos';

export const OUT_OF_SCOPE_EXAMPLES: Record<'en' | 'es' | 'fr' | 'de', string[]> = {
  en: [
    // weather
    'will it rain tomorrow',
    'is it going to be sunny this weekend',
    'how cold is it going to get tonight',
    'do I need an umbrella today',
    'forecast for saturday',
    'is it snowing in chicago right now',
    // jokes, games, creativity
    'tell me something funny',
    'do you know any good jokes',
    'sing me a song',
    'write a poem about the ocean',
    "let's play a game",
    'tell me a story',
    'make me laugh',
    'can you rap',
    // trivia and general knowledge
    'what is the capital of australia',
    'who won the world cup in 2018',
    'how tall is mount everest',
    'who painted the mona lisa',
    'how many planets are there in the solar system',
    'when did world war two end',
    'why is the sky blue',
    'how far away is the moon',
    'who invented the light bulb',
    'what is the biggest animal in the world',
    'how do airplanes stay in the air',
    'what language do they speak in brazil',
    'how many people live in india',
    // maths and conversions
    'what is 15 times 23',
    "what's the square root of 144",
    'convert 10 miles to kilometers',
    'how many ounces in a pound',
    'solve x squared plus 2x equals 8',
    'what is 20 percent of 85',
    // cooking and food
    'how do I make pancakes',
    'what should I cook for dinner tonight',
    'give me a recipe for lasagna',
    'how long do you boil an egg',
    'is a tomato a fruit or a vegetable',
    // entertainment, sports, news, politics
    'recommend a good movie',
    'what is on tv tonight',
    'who sings this song',
    'play some music',
    "what's the score of the football game",
    'who is the best basketball player of all time',
    'when are the next olympics',
    "what's the latest news",
    'who is going to win the election',
    'what do you think about the president',
    'who is the richest person in the world',
    // personal-assistant requests
    'set an alarm for 7am',
    'remind me to call my mom at 5',
    'what time is it in tokyo',
    'turn on the lights in the living room',
    'send a text to john',
    'add milk to my shopping list',
    "what's on my calendar tomorrow",
    'find me a good restaurant nearby',
    'how do I get to the nearest gas station',
    // health, life, feelings, philosophy
    'I have a headache, what should I take',
    'how many calories are in a banana',
    'how do I lose weight fast',
    'how can I sleep better',
    'what is the meaning of life',
    'do you believe in god',
    'will you marry me',
    'do you love me',
    'I am bored',
    'my girlfriend broke up with me',
    'should I quit my job',
    'give me some life advice',
    // small talk about the bot itself
    'how old are you',
    "what's your favorite color",
    'where do you live',
    'are you married',
    'do you dream',
    'what is your favourite food',
    'are you smarter than siri',
    // school, language, technology in general
    'can you do my math homework',
    'how do you say apple in french',
    'how do you spell necessary',
    'what does serendipity mean',
    'write an essay about climate change',
    'explain quantum physics',
    'how do I learn to code',
    'what is bitcoin worth today',
    'should I buy stocks',
    // pets and nature
    'how often should I feed my cat',
    'why do dogs wag their tails',
    'what is the fastest bird',
    'how do I grow tomatoes',
    // gibberish
    'jfkdls',
    'qwertyuiop',
    'hmmmmm',
    'banana',
    'xyz abc',
    'potato potato potato',
  ],
  // Shorter lists in the other languages Baton speaks, by the same rules.
  es: [
    'va a llover mañana', '¿qué tiempo hará el fin de semana?', '¿necesito paraguas hoy?', 'cuéntame un chiste', 'cántame una canción',
    'escribe un poema sobre el mar', '¿jugamos a algo?', '¿cuál es la capital de australia?', '¿quién ganó el mundial de 2010?',
    '¿quién pintó la mona lisa?', '¿por qué el cielo es azul?', '¿cuánto es 15 por 23?', 'raíz cuadrada de 144', 'convierte 10 millas a kilómetros',
    '¿cómo se hacen las tortitas?', 'dame una receta de paella', 'recomiéndame una película', '¿cómo va el partido del madrid?',
    '¿qué hora es en tokio?', 'pon una alarma a las 7', 'recuérdame llamar a mi madre', 'me duele la cabeza, ¿qué tomo?',
    '¿cuál es el sentido de la vida?', '¿crees en dios?', '¿te quieres casar conmigo?', 'estoy aburrido', '¿cuántos años tienes?',
    '¿cuál es tu color favorito?', 'hazme los deberes de mates', '¿cómo se dice manzana en inglés?', '¿cuánto vale el bitcoin hoy?',
    '¿cada cuánto le doy de comer al gato?', 'asdfgh', 'mmmmm', 'patata patata',
  ],
  fr: [
    "est-ce qu'il va pleuvoir demain", 'quel temps fera-t-il ce week-end ?', "j'ai besoin d'un parapluie aujourd'hui ?", 'raconte-moi une blague',
    'chante-moi une chanson', 'écris un poème sur la mer', 'on fait un jeu ?', "quelle est la capitale de l'australie ?",
    'qui a gagné la coupe du monde 2018 ?', 'qui a peint la joconde ?', 'pourquoi le ciel est bleu ?', 'combien font 15 fois 23 ?',
    'racine carrée de 144', 'convertis 10 miles en kilomètres', 'comment faire des crêpes ?', 'donne-moi une recette de quiche',
    'conseille-moi un bon film', 'quel est le score du match du psg ?', 'quelle heure est-il à tokyo ?', 'mets un réveil à 7h',
    "rappelle-moi d'appeler ma mère", "j'ai mal à la tête, je prends quoi ?", 'quel est le sens de la vie ?', 'tu crois en dieu ?',
    "veux-tu m'épouser ?", "je m'ennuie", 'tu as quel âge ?', 'quelle est ta couleur préférée ?', 'fais mes devoirs de maths',
    'comment dit-on pomme en anglais ?', "combien vaut le bitcoin aujourd'hui ?", 'je dois nourrir mon chat combien de fois ?', 'azerty', 'hmmmm',
    'patate patate',
  ],
  de: [
    'wird es morgen regnen', 'wie wird das Wetter am Wochenende?', 'brauche ich heute einen Regenschirm?', 'erzähl mir einen Witz',
    'sing mir ein Lied', 'schreib ein Gedicht über das Meer', 'lass uns ein Spiel spielen', 'was ist die Hauptstadt von Australien?',
    'wer hat die WM 2014 gewonnen?', 'wer hat die Mona Lisa gemalt?', 'warum ist der Himmel blau?', 'was ist 15 mal 23?',
    'Wurzel aus 144', 'rechne 10 Meilen in Kilometer um', 'wie macht man Pfannkuchen?', 'gib mir ein Rezept für Lasagne',
    'empfiehl mir einen guten Film', 'wie steht es beim Bayern-Spiel?', 'wie spät ist es in Tokio?', 'stell einen Wecker auf 7 Uhr',
    'erinnere mich daran, meine Mutter anzurufen', 'ich habe Kopfschmerzen, was soll ich nehmen?', 'was ist der Sinn des Lebens?',
    'glaubst du an Gott?', 'willst du mich heiraten?', 'mir ist langweilig', 'wie alt bist du?', 'was ist deine Lieblingsfarbe?',
    'mach meine Mathe-Hausaufgaben', 'was heißt Apfel auf Englisch?', 'was ist Bitcoin heute wert?', 'wie oft muss ich meine Katze füttern?',
    'asdfgh', 'hmmmm', 'Kartoffel Kartoffel',
  ],
};

/** The generic out-of-scope examples for a language; [] when Baton has none for it. */
export function outOfScopeFor(language: string): TrainingIntent[] {
  const key = (typeof language === 'string' ? language : '').trim().toLowerCase().split(/[-_]/)[0] ?? '';
  if (!Object.prototype.hasOwnProperty.call(OUT_OF_SCOPE_EXAMPLES, key)) return [];
  return [{ intent: OUT_OF_SCOPE_INTENT, examples: [...OUT_OF_SCOPE_EXAMPLES[key as keyof typeof OUT_OF_SCOPE_EXAMPLES]] }];
}
